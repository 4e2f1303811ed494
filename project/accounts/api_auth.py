"""Who may call an API operation: a JWT bearer token (see tokens.py) and, optionally, a role."""

from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from project.accounts.tokens import TokenError, user_for_access_token


class JWTAuth(HttpBearer):
    """Bearer access token; `roles` limits who may call (wrong role -> 403, not 401)."""

    def __init__(self, *roles: str):
        super().__init__()
        self.roles = set(roles)

    def authenticate(self, request, token):
        try:
            user = user_for_access_token(token)
        except TokenError:
            return None
        if self.roles and user.role not in self.roles:
            raise AuthorizationError(message=f"This needs a {' or '.join(sorted(self.roles))} account.")
        request.user = user
        return user


any_user = JWTAuth()
customer_auth = JWTAuth("customer")
driver_auth = JWTAuth("driver")
admin_auth = JWTAuth("admin")
