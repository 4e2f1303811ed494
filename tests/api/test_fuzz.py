"""Property-based fuzzing of the whole OpenAPI schema with schemathesis: whatever
a client sends, the API answers with a documented 2xx/4xx in our error shape,
never a 5xx."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings

from project.accounts.tokens import token_pair_for
from project.api import api
from tests.factories import AdminFactory, CustomerFactory, DriverFactory, PetFactory, make_ride

SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema())
OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in SCHEMA.get_all_operations())}
# Which account calls each group of operations (the first tag in the schema).
ROLE_FOR_TAG = {"accounts": "customer", "customers": "customer", "drivers": "driver", "admin": "admin"}
EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def wsgi_app():
    """The real WSGI handler, minus closing the connection after each request (as Django's test
    client does): the test's transaction must survive the calls, on PostgreSQL too."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, stripe_server):
    """A few real rows so that generated ids sometimes hit something, and a token per role
    (with localstripe running, so payment calls reach a real Stripe-compatible server)."""
    customer = CustomerFactory()
    make_ride(pet=PetFactory(owner=customer))
    users = {"customer": customer, "driver": DriverFactory(), "admin": AdminFactory()}
    return {role: token_pair_for(user=user).access for role, user in users.items()}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_api_never_answers_5xx(label, tokens, wsgi_app):
    operation = OPERATIONS[label]
    token = tokens[ROLE_FOR_TAG.get((operation.definition.raw.get("tags") or ["customers"])[0], "customer")]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call(app=wsgi_app, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
        if response.status_code >= 400 and "json" in str(response.headers.get("Content-Type", "")):
            body = response.json()
            assert "detail" in body and set(body) <= {"detail", "errors"}, body

    check()
