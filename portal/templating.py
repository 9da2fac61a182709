"""Template helpers of the portal's pages (registered in settings.JINJA2_HELPERS)."""

from django.utils.translation import gettext_lazy as _

from portal.message_selectors import unread_announcements_count, unread_label
from portal.models import Membership
from portal.share_selectors import lead_share_current

# (section key, label, URL name, admins only): the portal's tab strip, in order. Each section's URL must exist.
PORTAL_NAV = (
    ("home", _("Home"), "portal:home", False),
    ("learn", _("Getting started"), "onboarding:start", False),  # the partner's own Getting Started page (issue 15)
    ("deals", _("Deals"), "portal:deals", False),
    ("prices", _("Prices"), "portal:prices", False),  # the partner's price list (issue 17)
    ("leads", _("Leads"), "portal:leads", False),
    ("messages", _("Messages"), "portal:messages", False),
    ("library", _("Library"), "library:home", False),
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


def lead_share(lead_id: int):
    """The staff's lead page: the lead's open share with a partner, else its latest, or None (one query;
    portal.share_selectors.lead_share_current). Used by jinja2/leads/_share.html."""
    return lead_share_current(lead_id=lead_id)


def portal_unread_messages(member: Membership | None) -> str:
    """The bell's label in jinja2/portal/base.html: how many announcements ``member``'s user has not opened ("",
    "3", "99+"). One capped count query, or none when the page already counted (``member._unread_messages``)."""
    if member is None:
        return ""
    count = getattr(member, "_unread_messages", None)
    if count is None:
        count = member._unread_messages = unread_announcements_count(member=member)
    return unread_label(count)


GLOBALS = {"portal_nav": portal_nav, "lead_share": lead_share, "portal_unread_messages": portal_unread_messages}
FILTERS: dict = {}
