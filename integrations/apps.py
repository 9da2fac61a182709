from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """CRM sync (layer 6, issue 17): connections with encrypted credentials, field mappings, external references,
    sync runs and their log; the Salesforce connector; pulls on the beat and pushes from the outbox."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = "CRM sync"
