from django.apps import AppConfig

# Session key: whether the signed-in user sees every partner (a manager), so the navigation can offer "Team" on every
# page without a query of its own (set at login; a page that asks partners.selectors keeps the answer on the user).
SESSION_SEES_ALL = "prm_sees_all"


class DashboardConfig(AppConfig):
    """The staff pages that compose several apps (the partner list, page and form): above every domain app."""

    name = "dashboard"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_remember_role, dispatch_uid="dashboard.remember_role")


def _remember_role(sender, request, user, **kwargs):
    from partners.selectors import user_sees_all_partners

    if request is not None and hasattr(request, "session"):
        request.session[SESSION_SEES_ALL] = user_sees_all_partners(user)
