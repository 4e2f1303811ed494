"""Phone login for the API (`POST /auth/otp/send`, `POST /auth/otp/verify`) and verifying the
profile's number (`POST /profile/phone/code`, `POST /profile/phone/verify`), with real codes
texted through the Twilio SDK to the local Twilio."""

import re
from http import HTTPStatus

import pytest

from core.ratelimit import parse_rates
from project.accounts.models import PhoneCode
from tests.api.conftest import ApiClient
from tests.factories import AdminFactory, CustomerFactory, DriverFactory

pytestmark = pytest.mark.django_db

NUMBER = "+12125550140"
ACCEPTED = {"detail": "If an account can log in with this number, we are texting it a code.", "errors": {}}
FAILED = {"detail": "The code is wrong or has expired.", "errors": {}}


def codes_to(twilio, number: str = NUMBER) -> list[str]:
    return [
        re.search(r"your code is (\d{6})\.", r["form"]["Body"])[1]
        for r in twilio.sent()
        if r["form"]["To"] == number
    ]


def ask(api, committed, number: str = NUMBER, **kwargs):
    with committed():
        return api.post("/auth/otp/send", {"phone": number}, **kwargs)


def test_a_verified_number_logs_in_with_the_texted_code(anon_api, twilio, committed):
    alice = CustomerFactory(phone=NUMBER)  # verified
    response = ask(anon_api, committed)
    assert response.status_code == HTTPStatus.ACCEPTED and response.json() == {"detail": ACCEPTED["detail"]}
    [code] = codes_to(twilio)

    response = anon_api.post("/auth/otp/verify", {"phone": "+1 (212) 555-0140", "code": code})
    assert response.status_code == HTTPStatus.OK
    tokens = response.json()
    assert set(tokens) == {"access", "refresh", "token_type", "access_expires_at"}
    me = ApiClient()
    me.token = tokens["access"]
    assert me.get("/profile").json()["email"] == alice.email
    refreshed = anon_api.post("/token/refresh", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == HTTPStatus.OK  # the same token pair as /login

    # A code works once.
    again = anon_api.post("/auth/otp/verify", {"phone": NUMBER, "code": code})
    assert (again.status_code, again.json()) == (HTTPStatus.UNAUTHORIZED, FAILED)


@pytest.mark.parametrize(
    "account",
    [
        None,  # nobody has the number
        lambda: CustomerFactory(phone=NUMBER, phone_verified_at=None),  # typed in, never verified
        lambda: CustomerFactory(phone=NUMBER, is_active=False),
        lambda: AdminFactory(phone=NUMBER),  # operations log in with their password only
        lambda: [CustomerFactory(phone=NUMBER), CustomerFactory(phone=NUMBER)],  # shared: ambiguous
    ],
    ids=["unknown", "unverified", "inactive", "admin", "shared"],
)
def test_the_answer_is_the_same_and_nothing_is_texted_without_one_account(
    anon_api, twilio, committed, account
):
    if account:
        account()
    response = ask(anon_api, committed)
    assert (response.status_code, response.json()) == (HTTPStatus.ACCEPTED, {"detail": ACCEPTED["detail"]})
    assert twilio.requests == [] and not PhoneCode.objects.exists()
    guess = anon_api.post("/auth/otp/verify", {"phone": NUMBER, "code": "123456"})
    assert (guess.status_code, guess.json()) == (HTTPStatus.UNAUTHORIZED, FAILED)


def test_drivers_log_in_by_phone_too(anon_api, twilio, committed):
    DriverFactory(phone=NUMBER)
    ask(anon_api, committed)
    [code] = codes_to(twilio)
    assert anon_api.post("/auth/otp/verify", {"phone": NUMBER, "code": code}).status_code == HTTPStatus.OK


def test_a_wrong_code_tells_nothing_and_five_lock_the_code(anon_api, twilio, committed):
    CustomerFactory(phone=NUMBER)
    ask(anon_api, committed)
    [code] = codes_to(twilio)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = anon_api.post("/auth/otp/verify", {"phone": NUMBER, "code": wrong})
        assert (response.status_code, response.json()) == (HTTPStatus.UNAUTHORIZED, FAILED)
    response = anon_api.post("/auth/otp/verify", {"phone": NUMBER, "code": code})
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_a_number_changed_after_the_text_no_longer_logs_in(anon_api, twilio, committed):
    alice = CustomerFactory(phone=NUMBER)
    ask(anon_api, committed)
    [code] = codes_to(twilio)
    alice.phone = "+12125550141"
    alice.save()
    response = anon_api.post("/auth/otp/verify", {"phone": NUMBER, "code": code})
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_codes_per_number_are_limited_whether_or_not_an_account_exists(anon_api, twilio, committed, settings):
    settings.PHONE_CODE_RATE_PER_NUMBER = parse_rates("1/h")
    CustomerFactory(phone=NUMBER)
    known = [ask(anon_api, committed) for _ in range(2)]
    unknown = [ask(anon_api, committed, "+12125550142") for _ in range(2)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [202, 429]

    # The same answer either way (the minutes left may tick between the two asks).
    def without_minutes(body):
        return {**body, "detail": re.sub(r"\d+ (minute|second)s?", "N", body["detail"])}

    assert without_minutes(known[1].json()) == without_minutes(unknown[1].json())
    assert re.fullmatch(
        r"Too many codes were sent to this number\. Try again in \d+ (minute|second)s?\.",
        known[1].json()["detail"],
    )
    assert len(codes_to(twilio)) == 1


def test_the_send_endpoint_is_throttled_per_ip(anon_api, committed):
    answers = [ask(anon_api, committed, f"+1212555015{n}").status_code for n in range(6)]
    assert answers == [HTTPStatus.ACCEPTED] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("12", "Enter a valid phone number"),
        ("+4915123456789", "We can only text numbers in the US and Canada."),
    ],
)
def test_a_number_we_cannot_text_is_refused_clearly(anon_api, twilio, committed, number, message):
    response = ask(anon_api, committed, number)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.json()["errors"]["phone"][0]
    assert twilio.requests == []


# --- Verifying the profile's number through the API ---------------------------------------------


def test_verifying_the_profile_number_through_the_api(twilio, committed):
    nora = CustomerFactory(phone=NUMBER, phone_verified_at=None)
    api = ApiClient(nora)
    assert api.get("/profile").json()["phone_verified"] is False
    with committed():
        response = api.post("/profile/phone/code")
    assert response.status_code == HTTPStatus.ACCEPTED
    [code] = codes_to(twilio)

    wrong = api.post("/profile/phone/verify", {"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert wrong.json()["errors"] == {"code": ["That code is not right. 4 tries left."]}

    response = api.post("/profile/phone/verify", {"code": code})
    assert response.status_code == HTTPStatus.OK and response.json()["phone_verified"] is True
    nora.refresh_from_db()
    assert nora.phone_is_verified


def test_changing_the_number_through_the_api_unverifies_it(customer_api, customer):
    response = customer_api.put("/profile", {"phone": "+12125550143"})
    assert response.json()["phone_verified"] is False
    customer.refresh_from_db()
    assert customer.phone_verified_at is None


def test_a_verified_profile_number_needs_no_code(customer_api, twilio):
    response = customer_api.post("/profile/phone/code")
    assert response.status_code == HTTPStatus.CONFLICT
    assert twilio.requests == []


def test_profile_phone_endpoints_need_a_token(anon_api):
    assert anon_api.post("/profile/phone/code").status_code == HTTPStatus.UNAUTHORIZED
    assert anon_api.post("/profile/phone/verify", {"code": "123456"}).status_code == HTTPStatus.UNAUTHORIZED
