"""Scopes: each API view names its resource group (``scope_group``); a key needs "<group>:read" for GET, HEAD and
OPTIONS and "<group>:write" for anything else. A session user has every scope (what they see is still decided by
the same selectors as the pages). Partner users (the portal) never reach the API: their session is stopped by
portal.middleware, and only staff can create keys."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.models import READ, WRITE, ApiKey


def required_scope(view, method: str) -> str | None:
    group = getattr(view, "scope_group", None)
    if group is None:
        return None
    return f"{group}:{READ if method in SAFE_METHODS else WRITE}"


class HasScope(BasePermission):
    message = "This API key does not have the scope this request needs."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        key = request.auth
        if not isinstance(key, ApiKey):  # the browser session
            return True
        scope = required_scope(view, request.method)
        if scope is None:
            return True
        if scope not in key.scopes:
            self.message = f"This API key lacks the scope {scope}."
            return False
        return True
