from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The integration API (layer 6): API keys, /api/v1/ endpoints, rate limits (issue 16)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "Integration API"

    def ready(self):
        from api import schema  # noqa: F401 (registers the API key scheme with drf-spectacular)
