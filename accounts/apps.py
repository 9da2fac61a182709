from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Single sign-on (OpenID Connect), password reset and account security (layer 7, issue 18)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Sign-in and account security"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts.signals import record_session

        user_logged_in.connect(record_session, dispatch_uid="accounts.record_session")
