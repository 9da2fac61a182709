"""Template helpers for partner pages (Jinja2, registered through ``settings.JINJA2_HELPERS``): quick-action links,
contact links, safe links, sortable column headers and paging links.

They only read what the view and selectors already loaded (lists, ``request.GET``); none of them queries the database.
The rules (which contact gives which action, which links are safe) live in ``partners.contacts``.
"""

from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from markupsafe import Markup, escape

from partners import contacts as rules


def quick_actions_html(actions: list[rules.QuickAction], name: str) -> Markup:
    """The links of ``partners.contacts.quick_actions``. Every value goes through markupsafe's ``escape`` (C code: the
    list renders ~125 of these links per page, and Django's ``format_html`` made them a third of its CPU)."""
    if not actions:
        return Markup('<span class="muted">—</span>')
    name = escape(name)
    links = "".join(
        f'<a class="qa qa-{escape(a.action)}" href="{escape(a.href)}" title="{escape(a.label)}: {escape(a.title)}"'
        f' target="{"_blank" if a.new_tab else "_self"}" rel="noopener" aria-label="{escape(a.label)} {name}">'
        f"{escape(a.label)}</a>"
        for a in actions
    )
    return Markup(f'<span class="quick-actions">{links}</span>')  # noqa: S704 (every part escaped above)


def partner_quick_actions(contacts: list, locations: list, name: str = "") -> Markup:
    """Quick actions from a partner's contact points and locations (loaded lists; only primaries are used)."""
    return quick_actions_html(rules.quick_actions(*rules.primaries(contacts, locations)), name)


def partner_row_actions(partner: object) -> Markup:
    """Quick actions of a partner list row (``partners.selectors.partner_list_rows`` loaded what they need)."""
    return quick_actions_html(rules.quick_actions(partner.primary_contacts, partner.primary_location), partner.name)


def sort_link(request: HttpRequest, key: str, label: str, default: str = "name") -> SafeString:
    """A column header link that sorts by ``key`` (toggling the direction), keeping the other filters, page reset."""
    current = request.GET.get("sort") or default
    if current == key:
        target, state = "-" + key, "asc"
    elif current == "-" + key:
        target, state = key, "desc"
    else:
        target, state = key, None
    params = request.GET.copy()
    params.pop("page", None)
    params["sort"] = target
    if state is None:
        return format_html('<a class="sort" href="?{}">{}</a>', params.urlencode(), label)
    return format_html(
        '<a class="sort sorted-{}" href="?{}" aria-sort="{}">{} {}</a>',
        state, params.urlencode(), "ascending" if state == "asc" else "descending", label, "▲" if state == "asc" else "▼",
    )


def page_url(request: HttpRequest, number: int) -> str:
    """The current URL's query string with ``page`` replaced, so filters and sort survive paging."""
    params = request.GET.copy()
    params["page"] = number
    return "?" + params.urlencode()


GLOBALS = {
    "partner_quick_actions": partner_quick_actions,
    "partner_row_actions": partner_row_actions,
    "sort_link": sort_link,
    "page_url": page_url,
}
FILTERS = {
    "tel_href": rules.tel_href,
    "sms_href": rules.sms_href,
    "whatsapp_href": rules.whatsapp_href,
    "mailto_href": rules.mailto_href,
    "safe_href": rules.safe_href,
}
