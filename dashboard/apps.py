from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The staff pages that compose several apps (the partner list, page and form): above every domain app."""

    name = "dashboard"
