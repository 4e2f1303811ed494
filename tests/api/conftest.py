import pytest
from django.test import Client

from project.accounts.tokens import token_pair_for


class ApiClient:
    """Django's test client speaking JSON with a bearer token."""

    def __init__(self, user=None):
        self.client = Client()
        self.token = token_pair_for(user=user).access if user else None

    def request(self, method, path, json=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        call = getattr(self.client, method)
        if json is not None:
            return call(f"/api/v1{path}", json, content_type="application/json", headers=headers, **kwargs)
        return call(f"/api/v1{path}", headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.request("get", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("post", path, json=json if json is not None else {}, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.request("put", path, json=json if json is not None else {}, **kwargs)

    def put_form(self, path, fields: dict, files: dict | None = None):
        """multipart/form-data, as a phone app uploads a photo."""
        from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

        body = encode_multipart(BOUNDARY, {**fields, **(files or {})})
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.client.put(f"/api/v1{path}", body, content_type=MULTIPART_CONTENT, headers=headers)

    def delete(self, path, **kwargs):
        return self.request("delete", path, **kwargs)


@pytest.fixture
def anon_api(db):
    return ApiClient()


@pytest.fixture
def customer_api(customer):
    return ApiClient(customer)


@pytest.fixture
def other_customer_api(other_customer):
    return ApiClient(other_customer)


@pytest.fixture
def driver_api(driver):
    return ApiClient(driver)


@pytest.fixture
def admin_api(admin_user):
    return ApiClient(admin_user)
