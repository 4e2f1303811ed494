from http import HTTPStatus

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@override_settings(API_DOCS_PUBLIC=False)
@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/docs"])
def test_docs_are_for_admins_in_production(client, customer, admin_user, path):
    assert client.get(path).status_code == HTTPStatus.FORBIDDEN
    client.force_login(customer)
    assert client.get(path).status_code == HTTPStatus.FORBIDDEN
    client.force_login(admin_user)
    assert client.get(path).status_code == HTTPStatus.OK


@override_settings(API_DOCS_PUBLIC=True)
def test_docs_are_open_in_development(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == HTTPStatus.OK
    schema = response.json()
    assert schema["info"]["title"] == "Whiskers & Wheels API"
    assert "/api/v1/bookings" in schema["paths"]
    assert client.get("/api/v1/docs").status_code == HTTPStatus.OK


@override_settings(API_DOCS_PUBLIC=True)
def test_docs_page_uses_no_cdn(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "cdn." not in html
    assert "/static/ninja/swagger-ui-bundle.js" in html
