"""Template helpers for partner pages: quick-action links, contact links and sortable column headers.

They only read what the view and selectors already loaded (lists, ``request.GET``); none of them queries the database.
"""

import re
from html import escape  # the stdlib function Django's escape wraps (without its lazy-string overhead)

from django import template
from django.utils.safestring import mark_safe

from partners.models import ContactPoint

register = template.Library()

K = ContactPoint.Kind
# For each quick action, the contact kinds to use, in order of preference.
ACTION_KINDS = {
    "call": (K.MOBILE, K.PHONE, K.WHATSAPP),
    "sms": (K.MOBILE, K.PHONE),
    "whatsapp": (K.WHATSAPP, K.MOBILE),
    "email": (K.EMAIL,),
}


def _digits(value):
    return re.sub(r"\D", "", value or "")


@register.filter
def tel_href(value):
    """``tel:`` link of a phone number: digits, keeping a leading +."""
    value = (value or "").strip()
    return "tel:" + ("+" if value.startswith("+") else "") + _digits(value)


@register.filter
def sms_href(value):
    value = (value or "").strip()
    return "sms:" + ("+" if value.startswith("+") else "") + _digits(value)


@register.filter
def whatsapp_href(value):
    return "https://wa.me/" + _digits(value)


@register.filter
def mailto_href(value):
    return "mailto:" + (value or "").strip()


def quick_actions(primary, location):
    """Links for call / sms / WhatsApp / email / navigate, as a list of dicts.

    ``primary`` is ``{kind: value}`` of the partner's primary contact points, ``location`` its primary Location (or
    None).
    """
    actions = []
    makers = {"call": tel_href, "sms": sms_href, "whatsapp": whatsapp_href, "email": mailto_href}
    labels = {"call": "Call", "sms": "Message", "whatsapp": "WhatsApp", "email": "Email"}
    for action, kinds in ACTION_KINDS.items():
        value = next((primary[kind] for kind in kinds if primary.get(kind)), None)
        if value:
            actions.append({"action": action, "label": labels[action], "href": makers[action](value), "title": value})
    if location is not None:
        actions.append(
            {"action": "navigate", "label": "Navigate", "href": location.maps_url, "title": str(location)}
        )
    return actions


def quick_actions_html(actions, name):
    """The links of ``quick_actions``. Built in Python with one ``escape`` per value: the list renders them on 25
    rows, and a template per row (an inclusion tag), or format_html per link, cost milliseconds per page."""
    if not actions:
        return mark_safe('<span class="muted">—</span>')  # noqa: S308 (a constant)
    name = escape(name)
    links = []
    for a in actions:
        new_tab = ' target="_blank" rel="noopener"' if a["action"] in ("whatsapp", "navigate") else ""
        links.append(
            f'<a class="qa qa-{a["action"]}" href="{escape(a["href"])}" title="{a["label"]}: {escape(a["title"])}"'
            f'{new_tab} aria-label="{a["label"]} {name}">{a["label"]}</a>'
        )
    return mark_safe('<span class="quick-actions">' + "".join(links) + "</span>")  # noqa: S308 (values escaped)


@register.simple_tag
def partner_quick_actions(contacts, locations, name=""):
    """Quick actions from a partner's contact points and locations (loaded lists; only primaries are used)."""
    primary = {}
    for contact in contacts:
        if contact.is_primary:
            primary.setdefault(contact.kind, contact.value)
    location = next((loc for loc in locations if loc.is_primary), None)
    return quick_actions_html(quick_actions(primary, location), name)


@register.simple_tag
def partner_row_actions(partner):
    """Quick actions of a partner list row (``partners.selectors.partner_list_rows`` loaded what they need)."""
    return quick_actions_html(quick_actions(partner.primary_contacts, partner.primary_location), partner.name)


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

