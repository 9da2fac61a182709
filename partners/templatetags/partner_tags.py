"""Template helpers for partner pages: quick-action links, contact links, safe links and sortable column headers.

They only read what the view and selectors already loaded (lists, ``request.GET``); none of them queries the database.
The rules (which contact gives which action, which links are safe) live in ``partners.contacts``.
"""

from django import template
from django.utils.html import format_html, format_html_join

from partners import contacts as rules

register = template.Library()

register.filter("tel_href", rules.tel_href)
register.filter("sms_href", rules.sms_href)
register.filter("whatsapp_href", rules.whatsapp_href)
register.filter("mailto_href", rules.mailto_href)
register.filter("safe_href", rules.safe_href)


def quick_actions_html(actions: list[rules.QuickAction], name: str) -> str:
    """The links of ``partners.contacts.quick_actions``, escaped by ``format_html_join`` (the list renders them on 25
    rows: an inclusion template per row would cost milliseconds per page)."""
    if not actions:
        return format_html('<span class="muted">{}</span>', "—")
    links = format_html_join(
        "",
        '<a class="qa qa-{}" href="{}" title="{}: {}" target="{}" rel="noopener" aria-label="{} {}">{}</a>',
        (
            (a.action, a.href, a.label, a.title, "_blank" if a.new_tab else "_self", a.label, name, a.label)
            for a in actions
        ),
    )
    return format_html('<span class="quick-actions">{}</span>', links)


@register.simple_tag
def partner_quick_actions(contacts, locations, name=""):
    """Quick actions from a partner's contact points and locations (loaded lists; only primaries are used)."""
    return quick_actions_html(rules.quick_actions(*rules.primaries(contacts, locations)), name)


@register.simple_tag
def partner_row_actions(partner):
    """Quick actions of a partner list row (``partners.selectors.partner_list_rows`` loaded what they need)."""
    return quick_actions_html(rules.quick_actions(partner.primary_contacts, partner.primary_location), partner.name)


@register.inclusion_tag("partials/sort_link.html", takes_context=True)
def sort_link(context, key, label):
    """A column header link that sorts by ``key`` (toggling the direction), keeping the other filters, page reset."""
    request = context["request"]
    current = request.GET.get("sort") or "name"
    if current == key:
        target, state = "-" + key, "asc"
    elif current == "-" + key:
        target, state = key, "desc"
    else:
        target, state = key, None
    params = request.GET.copy()
    params.pop("page", None)
    params["sort"] = target
    return {"href": "?" + params.urlencode(), "label": label, "state": state}


@register.simple_tag(takes_context=True)
def page_url(context, number):
    """The current URL's query string with ``page`` replaced, so filters and sort survive paging."""
    params = context["request"].GET.copy()
    params["page"] = number
    return "?" + params.urlencode()


@register.filter
def percent(value):
    """A Decimal percentage as a whole number (e.g. 73)."""
    try:
        return f"{round(value):d}"
    except (TypeError, ValueError):
        return ""

