"""Shared fixtures: users of each role, pets, rides, logged-in clients, running what
happens after a commit. The data builders they use are in tests/factories.py."""

import os
import socket
import threading

import pytest
from django.test.utils import override_settings

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from tests.factories import PNG_BYTES, AdminFactory, CustomerFactory, DriverFactory, PetFactory, make_ride  # noqa: E402

# Fixtures other folders share, loaded for the whole suite (localstripe, paying, `denied`; the
# local Twilio).
pytest_plugins = ["tests.billing.fixtures", "tests.notifications.fixtures"]


def pytest_configure(config):
    import django_q.conf

    override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # The manifest storage needs collectstatic; live_server would 404 on hashed names.
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    ).enable()
    django_q.conf.Conf.SYNC = True  # tasks run inline, right after the commit that queued them


# --- Fixtures -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps rate-limit counters in the cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fleet_has_room(request, monkeypatch):
    """The fleet's availability rule (fleet.availability) decides bookings in the tests marked
    `availability` (tests/fleet/test_availability.py, the API's, the concurrency race). Every
    other test books as it did before availability existed (bookings' default: every time is
    servable), so a booking test needn't build a working fleet first."""
    if request.node.get_closest_marker("availability") is None:
        import bookings.availability

        monkeypatch.setattr(bookings.availability, "_provider", None)
    yield


@pytest.fixture(autouse=True)
def _default_time_zone():
    """Test-client requests run in the test's thread, and the user time-zone middleware leaves
    the zone it activated (e.g. Asia/Tokyo from tests/test_time.py): each test starts in the
    default zone, so "3 days from now at 10:00" means the same day in every test."""
    from django.utils import timezone

    timezone.deactivate()
    yield


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Alice Moreno")


@pytest.fixture
def other_customer(db):
    return CustomerFactory(name="Mallory Other")


@pytest.fixture
def driver(db):
    return DriverFactory(name="Dana Diaz")


@pytest.fixture
def other_driver(db):
    return DriverFactory(name="Eli Park")


@pytest.fixture
def admin_user(db):
    return AdminFactory(name="Olivia Ops")


@pytest.fixture
def pet(customer):
    return PetFactory(owner=customer, name="Biscuit")


@pytest.fixture
def ride(pet):
    return make_ride(pet=pet)


@pytest.fixture
def photo():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("handover.png", PNG_BYTES, content_type="image/png")


def _client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def customer_client(client, customer):
    return _client_for(client, customer)


@pytest.fixture
def driver_client(client, driver):
    return _client_for(client, driver)


@pytest.fixture
def admin_client(client, admin_user):
    return _client_for(client, admin_user)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs the block's on-commit callbacks (ride_moved, queued tasks)
    as a real commit would, including the callbacks those callbacks add."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def hung_server():
    """The URL of a server that accepts connections and never answers (a hung provider): only
    the client's own timeouts end a call to it."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:  # closed at teardown
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for conn in held:
        conn.close()


# --- The task broker, for real --------------------------------------------------------


def _redis_url_for_this_worker() -> str | None:
    """TEST_REDIS_URL (CI sets it beside PostgreSQL), one database per xdist worker so that
    parallel tests never purge each other's queues."""
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        return None
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    return f"{url.rstrip('/').rsplit('/', 1)[0]}/{10 + worker}"


@pytest.fixture(params=["orm", "redis"])
def task_broker(request, monkeypatch):
    """Tasks are queued for real instead of run inline: on the ORM broker (the default), and on
    Redis when TEST_REDIS_URL is set (skipped otherwise). Yields a function giving the broker
    of one queue; every queue starts and ends empty."""
    import django_q.conf
    from django.conf import settings
    from django_q.brokers import get_broker

    conf = django_q.conf.Conf
    if request.param == "redis":
        url = _redis_url_for_this_worker()
        if url is None:
            pytest.skip("TEST_REDIS_URL is not set (CI sets it for the PostgreSQL run)")
        monkeypatch.setattr(conf, "ORM", None)
        monkeypatch.setattr(conf, "DJANGO_REDIS", None)
        monkeypatch.setattr(conf, "REDIS", url)
    else:
        monkeypatch.setattr(conf, "ORM", "default")
    monkeypatch.setattr(conf, "SYNC", False)
    queues = ["whiskers", *settings.TASK_QUEUES]
    for queue in queues:
        get_broker(queue).purge_queue()
    yield get_broker
    for queue in queues:
        get_broker(queue).purge_queue()


@pytest.fixture
def broker_down():
    """The broker refuses every task (a Redis nobody listens on: connection refused) until
    `back()` is called; from then on tasks run inline again, as a worker would run them."""
    import django_q.conf

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    patch = pytest.MonkeyPatch()
    conf = django_q.conf.Conf
    patch.setattr(conf, "ORM", None)
    patch.setattr(conf, "DJANGO_REDIS", None)
    patch.setattr(conf, "REDIS", f"redis://127.0.0.1:{port}/0")
    patch.setattr(conf, "SYNC", False)
    yield patch.undo
    patch.undo()
