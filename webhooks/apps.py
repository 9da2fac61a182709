from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed webhooks (layer 7, issue 16): endpoints, their encrypted secrets, the deliveries fanned out from the
    outbox, their retries, dead letters and the managers' pages under /settings/webhooks/."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Webhooks"
