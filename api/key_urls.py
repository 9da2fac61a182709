"""/settings/api-keys/ (included by prm/urls.py): URL names ``api_keys``, ``api_key_revoke``."""

from django.urls import path

from api.key_views import api_key_revoke, api_keys

urlpatterns = [
    path("", api_keys, name="api_keys"),
    path("<int:pk>/revoke/", api_key_revoke, name="api_key_revoke"),
]
