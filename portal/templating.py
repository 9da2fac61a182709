"""Template helpers of the portal's pages (registered in settings.JINJA2_HELPERS)."""

from django.utils.translation import gettext_lazy as _

from portal.models import Membership

# (section key, label, URL name, admins only): the portal's tab strip, in order. Each section's URL must exist.
PORTAL_NAV = (
    ("home", _("Home"), "portal:home", False),
    ("deals", _("Deals"), "portal:deals", False),
    ("leads", _("Leads"), "portal:leads", False),
    ("messages", _("Messages"), "portal:messages", False),
    ("business", _("Business"), "portal:business", False),
    ("company", _("Company"), "portal:company", False),
    ("people", _("Colleagues"), "portal:people", False),
)


def portal_nav(member: Membership | None) -> list[tuple[str, str, str]]:
    """The sections ``member`` may open (the last column of PORTAL_NAV: sections for partner admins only)."""
    return [
        (key, label, name)
        for key, label, name, admins in PORTAL_NAV
        if not admins or (member is not None and member.role == Membership.Role.ADMIN)
    ]


GLOBALS = {"portal_nav": portal_nav}
FILTERS: dict = {}
