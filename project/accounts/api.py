"""API: register, tokens (by password or by a code texted to a verified number), and the
caller's profile (with verifying its phone number)."""

from datetime import datetime

from ninja import Router, Schema, Status
from pydantic import Field

from core.api import AUTH_ERRORS, ErrorOut, invalid, throttle
from core.http import client_ip
from project.accounts import services, tokens
from project.accounts.api_auth import any_user, customer_auth
from project.accounts.forms import ApiEmailChangeForm, ApiPhoneForm, ApiRegisterForm, ProfileForm

router = Router(tags=["accounts"])


class RegisterIn(Schema):
    name: str = Field(max_length=150)
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    phone: str = Field("", max_length=32, description="E.164, e.g. +12125550100 (optional)")


class LoginIn(Schema):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)


class RefreshIn(Schema):
    refresh: str = Field(max_length=2048)


class TokensOut(Schema):
    access: str
    refresh: str
    token_type: str = "Bearer"
    access_expires_at: datetime


class ProfileOut(Schema):
    id: int
    email: str
    name: str
    role: str
    phone: str
    time_zone: str
    phone_verified: bool = Field(description="We text only a verified number (POST /profile/phone/code)")

    @staticmethod
    def resolve_phone(user) -> str:
        return str(user.phone or "")

    @staticmethod
    def resolve_phone_verified(user) -> bool:
        return user.phone_is_verified


class ProfileIn(Schema):
    name: str | None = Field(None, max_length=150)
    email: str | None = Field(
        None, max_length=254, description="Only your current address; change it with POST /profile/email."
    )
    phone: str | None = Field(None, max_length=32)
    time_zone: str | None = Field(None, max_length=64)


class EmailChangeIn(Schema):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128, description="Your current password.")


class AcceptedOut(Schema):
    detail: str


class AccountDeleteIn(Schema):
    password: str = Field(max_length=128, description="Your current password.")
    confirm: bool = Field(description="true: you mean it (your account is deleted for good).")


def _tokens(user) -> TokensOut:
    pair = tokens.token_pair_for(user=user)
    return TokensOut(access=pair.access, refresh=pair.refresh, access_expires_at=pair.access_expires_at)


@router.post(
    "/register",
    auth=None,
    throttle=[throttle("register")],
    response={202: AcceptedOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def register(request, payload: RegisterIn):
    """Sign up as a customer (drivers and admins are created by operations, never here). The
    answer is the same whether or not the address already has an account: the address gets
    either a link to confirm it, or a note that it has an account (with a password-reset
    link). After confirming, log in."""
    form = ApiRegisterForm(payload.dict())
    if not form.is_valid():
        raise invalid(form)
    services.customer_register(request=request, **form.cleaned_data)
    email = form.cleaned_data["email"]
    return Status(202, {"detail": f"We sent a message to {email}. Open the link in it to continue."})


@router.post(
    "/login",
    auth=None,
    throttle=[throttle("login")],
    response={200: TokensOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def login(request, payload: LoginIn):
    """Exchange email and password for an access token and a refresh token. After repeated
    failures for one account, further attempts wait (429 with Retry-After), longer each time."""
    user = services.user_authenticate(
        request=request, email=payload.email.strip().lower(), password=payload.password
    )
    return _tokens(user)


@router.post(
    "/token/refresh",
    auth=None,
    throttle=[throttle("refresh")],
    response={200: TokensOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def refresh(request, payload: RefreshIn):
    """Rotate: the refresh token is spent and a new pair returned. Reusing a spent one fails
    and revokes every token of that login."""
    pair = tokens.token_refresh(refresh=payload.refresh)
    return TokensOut(access=pair.access, refresh=pair.refresh, access_expires_at=pair.access_expires_at)


@router.post("/logout", auth=any_user, response={204: None, **AUTH_ERRORS, 422: ErrorOut})
def logout(request, payload: RefreshIn):
    """Revoke the refresh token (and its successors): this login is over."""
    tokens.token_revoke(refresh=payload.refresh, user=request.auth)
    return Status(204, None)


# --- Phone login and phone verification ----------------------------------------------


class OtpSendIn(Schema):
    phone: str = Field(max_length=32, description="E.164, e.g. +12125550100")


class OtpVerifyIn(Schema):
    phone: str = Field(max_length=32)
    code: str = Field(max_length=12, description="The 6 digits from the text")


class PhoneCodeIn(Schema):
    code: str = Field(max_length=12, description="The 6 digits from the text")


class AcceptedOut(Schema):
    detail: str


def _phone(value: str) -> str:
    form = ApiPhoneForm({"phone": value})
    if not form.is_valid():
        raise invalid(form)
    return str(form.cleaned_data["phone"])


@router.post(
    "/auth/otp/send",
    auth=None,
    throttle=[throttle("otp_send")],
    response={202: AcceptedOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def otp_send(request, payload: OtpSendIn):
    """Text a login code to a number. The answer is the same whether or not an account may log
    in with it: a code goes only to a number verified on an active customer or driver account."""
    services.phone_login_send(phone=_phone(payload.phone), ip=client_ip(request))
    return Status(202, {"detail": "If an account can log in with this number, we are texting it a code."})


@router.post(
    "/auth/otp/verify",
    auth=None,
    throttle=[throttle("otp_verify")],
    response={200: TokensOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def otp_verify(request, payload: OtpVerifyIn):
    """Exchange the texted code for the same token pair as `POST /login`. A code works once,
    for a few minutes and a few tries."""
    user = services.phone_login_confirm(phone=_phone(payload.phone), code=payload.code)
    return _tokens(user)


@router.post(
    "/profile/phone/code",
    auth=any_user,
    response={202: AcceptedOut, 400: ErrorOut, 409: ErrorOut, 429: ErrorOut, **AUTH_ERRORS},
)
def profile_phone_code(request):
    """Text a code to the number on your profile; send it back to `POST /profile/phone/verify`.
    Until the number is verified we text it nothing else."""
    services.phone_verification_send(user=request.auth, ip=client_ip(request))
    return Status(202, {"detail": "We are texting a code to the number on your profile."})


@router.post(
    "/profile/phone/verify",
    auth=any_user,
    response={200: ProfileOut, 400: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
)
def profile_phone_verify(request, payload: PhoneCodeIn):
    return services.phone_verification_confirm(user=request.auth, code=payload.code)


@router.get("/profile", auth=any_user, response={200: ProfileOut, **AUTH_ERRORS})
def profile(request):
    return request.auth


@router.put(
    "/profile", auth=any_user, response={200: ProfileOut, 400: ErrorOut, 422: ErrorOut, **AUTH_ERRORS}
)
def profile_update(request, payload: ProfileIn):
    """Change name, phone or time zone; fields left out keep their value. The email is changed
    with `POST /profile/email`, never here."""
    user = request.auth
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    if changes.pop("email", user.email).strip().lower() != user.email:
        message = "Change your email with POST /profile/email: it needs your password and a confirmation."
        raise invalid({"email": [message]})
    current = {"name": user.name, "phone": str(user.phone or ""), "time_zone": user.time_zone}
    form = ProfileForm({**current, **changes}, instance=user)
    if not form.is_valid():
        raise invalid(form)
    form.save()
    return user


@router.post(
    "/profile/email",
    auth=any_user,
    response={202: AcceptedOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut, **AUTH_ERRORS},
)
def profile_email_change(request, payload: EmailChangeIn):
    """Start changing your sign-in email: give your current password and the new address. The
    new address gets a link; your email changes (and every refresh token of yours stops
    working) only once that link is confirmed. Your current address is told."""
    form = ApiEmailChangeForm(payload.dict())
    if not form.is_valid():
        raise invalid(form)
    services.user_check_password(user=request.auth, password=form.cleaned_data["password"])
    email = form.cleaned_data["email"]
    services.email_change_start(request=request, user=request.auth, email=email)
    return Status(202, {"detail": f"We sent a link to {email}. Your email changes once it is confirmed."})


@router.delete(
    "/profile",
    auth=customer_auth,
    response={204: None, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut, **AUTH_ERRORS},
)
def profile_delete(request, payload: AccountDeleteIn):
    """Delete your account (customers only), with your current password and `"confirm": true`.
    Your name, email, phone, saved places, notes and the text of our messages to you are
    erased; your past rides and their payments are kept, under "Deleted customer". Every
    token and session of yours stops working, and signing up again with the same email makes
    a new account. 409 while you have open rides: cancel them first. 400 for a wrong password."""
    if not payload.confirm:
        raise invalid({"confirm": ['Send "confirm": true to delete your account.']})
    services.account_delete(user=request.auth, password=payload.password)
    return Status(204, None)
