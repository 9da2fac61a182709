from django.apps import AppConfig


class LibraryConfig(AppConfig):
    """The resource library, content pages and onboarding tracks (layer 5, beside the portal)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "library"
    verbose_name = "Resource library and onboarding"
