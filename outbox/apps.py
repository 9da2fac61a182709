from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """The transactional outbox (layer between partners/notifications and the apps that emit, issue 16): events written
    in the same transaction as the change they describe, claimed by consumers (webhooks, CRM push) after commit; and
    tombstones of hard-deleted rows, so API clients can mirror deletions."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "outbox"
    verbose_name = "Outbox"
