from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The partner portal (layer 5): partner users, deal registrations, shared leads, announcements, the feed."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Partner portal"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_remember_kind, dispatch_uid="portal.remember_kind")


def _remember_kind(sender, request, user, **kwargs):
    from portal.selectors import SESSION_KIND, user_kind

    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KIND] = user_kind(user)
