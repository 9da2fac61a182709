"""Template helpers for partner pages (Jinja2, registered through ``settings.JINJA2_HELPERS``): quick-action links,
contact links, safe links, sortable column headers and paging links.

They only read what the view and selectors already loaded (lists, ``request.GET``); none of them queries the database.
The rules (which contact gives which action, which links are safe) live in ``partners.contacts``.
"""

from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from markupsafe import Markup, escape

from partners import contacts as rules
from prm.formats import format_date

PREFERRED_TITLES = {"preferred": "Preferred", "detected": "Usually"}
# Per action, what never changes (computed once, not ~125 times per list page): its escaped label, target and the
# start of its "Log this …" query (kind and channel: values of fixed sets, safe in a URL as they are).
_ACTION_PARTS = {
    action: (str(escape(label)), "_blank" if action in rules.NEW_TAB_ACTIONS else "_self")
    for action, label in rules.ACTION_LABELS.items()
}
_LOG_QUERY = {
    action: (f"kind={kind}&amp;channel={action}", kind) for action, kind in rules.ACTION_ACTIVITY_KIND.items()
}


def quick_actions_html(actions: list[rules.QuickAction], name: str, log_url: str = "") -> Markup:
    """The links of ``partners.contacts.quick_actions``. Every value goes through markupsafe's ``escape`` (C code: the
    list renders ~125 of these links per page, and Django's ``format_html`` made them a third of its CPU).

    With ``log_url`` (the partner's log form), each contact action carries ``data-log`` (that form prefilled with
    the kind, channel and contact, as ``partners.contacts.log_params`` says): static/js/quick.js offers "Log this …"
    after the click. The preferred or detected action comes first, marked ``qa-preferred``."""
    if not actions:
        return Markup('<span class="muted">—</span>')
    name = escape(name)
    log_prefix = f"{escape(log_url)}?" if log_url else ""
    links = []
    for a in actions:
        label, target = _ACTION_PARTS[a.action]
        extra, title = "", f"{label}: {escape(a.title)}"
        if a.preferred:
            extra = " qa-preferred"
            title = f"{PREFERRED_TITLES[a.preferred]}: {title}"
        data = ""
        if log_prefix and a.action in _LOG_QUERY:
            query, kind = _LOG_QUERY[a.action]
            if a.contact_id:
                query = f"{query}&amp;contact={int(a.contact_id)}"
            data = f' data-log="{log_prefix}{query}" data-log-kind="{kind}" data-partner="{name}"'
        links.append(
            f'<a class="qa qa-{a.action}{extra}" href="{escape(a.href)}" title="{title}" target="{target}"'
            f' rel="noopener" aria-label="{label} {name}"{data}>{label}</a>'
        )
    return Markup(f'<span class="quick-actions">{"".join(links)}</span>')  # noqa: S704 (every part escaped above)


def partner_quick_actions(contacts: list, locations: list, name: str = "", partner_id: int | None = None) -> Markup:
    """Quick actions from a partner's contact points and locations (loaded lists; only primaries and the preferred
    contact are used). With ``partner_id`` the actions offer "Log this …"."""
    actions = rules.quick_actions(
        *rules.primaries(contacts, locations), ids=rules.primary_ids(contacts),
        preferred=rules.preferred_contact(contacts),
    )
    return quick_actions_html(actions, name, log_url(partner_id) if partner_id else "")


def partner_row_actions(partner: object, navigate: bool = True) -> Markup:
    """Quick actions of a partner list row (``partners.selectors.partner_list_rows`` loaded what they need; the view
    may set ``detected_channel``, from ``activities.selectors.channels_detected``), with "Log this …". Kept on the
    row: Today shows a partner's links on its due card and again on each of its calls and meetings."""
    cache = partner.__dict__.setdefault("_row_actions", {})
    if navigate not in cache:
        cache[navigate] = _row_actions(partner, navigate)
    return cache[navigate]


def _row_actions(partner: object, navigate: bool) -> Markup:
    actions = rules.quick_actions(
        partner.primary_contacts, partner.primary_location, ids=getattr(partner, "primary_contact_ids", None),
        preferred=getattr(partner, "preferred_contact", None), detected=getattr(partner, "detected_channel", ""),
    )
    if not navigate:  # Today's meeting card has its own "Navigate" (to the meeting's place)
        actions = [action for action in actions if action.action != "navigate"]
    return quick_actions_html(actions, partner.name, log_url(partner.pk))


_LOG_URL: list[str] = []


def log_url(partner_id: int) -> str:
    """The partner's log form URL (``activities:log``), reversed once per process (the list and Today build one per
    row)."""
    if not _LOG_URL:
        _LOG_URL.append(reverse("activities:log", args=[987654321]))
    return _LOG_URL[0].replace("987654321", str(int(partner_id)))


def sort_link(request: HttpRequest, key: str, label: str, default: str | None = None) -> SafeString:
    """A column header link that sorts by ``key`` (toggling the direction), keeping the other filters, page reset.
    ``default``: the list's order when no ``sort`` is given (else the view's ``request.list_default_sort``: a rep's
    list is most urgent first, a manager's by name)."""
    current = request.GET.get("sort") or default or getattr(request, "list_default_sort", "name")
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


def history_url(request: HttpRequest, number: int) -> str:
    """The partner page's URL showing page ``number`` of its past activities (``?history=``), other parameters kept
    (the trendline's ``parameter``); page 1 drops the parameter."""
    params = request.GET.copy()
    params.pop("history", None)
    if number > 1:
        params["history"] = number
    return "?" + params.urlencode() if params else request.path


def due_label(due_at: datetime | None) -> Markup:
    """A partner's engagement due date as a label: "overdue 5 d" (or "overdue today"), "due today", "due in 3 d"
    (days in the current time zone); "" without a due date."""
    if due_at is None:
        return Markup("")
    now = timezone.now()
    if due_at < now:
        days = (timezone.localdate(now) - timezone.localdate(due_at)).days
        text = f"overdue {days} d" if days >= 1 else "overdue today"
        return Markup(f'<span class="due due-overdue">{text}</span>')  # noqa: S704 (no user text)
    days = (timezone.localdate(due_at) - timezone.localdate(now)).days
    text = "due today" if days == 0 else f"due in {days} d"
    return Markup(f'<span class="due{" due-soon" if days <= 7 else ""}">{text}</span>')  # noqa: S704 (no user text)


def next_engagement(partner: object) -> Markup:
    """A list row's "Next engagement" cell: when the partner falls due (``due_label`` and the date) and the planned
    call/meeting if there is one. Python, not an included template: it runs for every row of every list page."""
    due = partner.engagement_due_at
    if due is None:
        html = '<span class="muted">—</span>'
    else:
        html = (f'{due_label(due)} <small class="muted"><time datetime="{format_date(due, "iso")}">'
                f"{format_date(due)}</time></small>")
    if partner.next_engagement_at is not None:
        planned = _("planned %(date)s") % {"date": format_date(partner.next_engagement_at)}
        html += f'<br><small class="muted">{escape(planned)}</small>'
    return Markup(html)  # noqa: S704 (dates and a translated text, escaped)


GLOBALS = {
    "partner_quick_actions": partner_quick_actions,
    "partner_row_actions": partner_row_actions,
    "sort_link": sort_link,
    "page_url": page_url,
    "history_url": history_url,
    "log_url": log_url,
    "next_engagement": next_engagement,
}
FILTERS = {
    "tel_href": rules.tel_href,
    "sms_href": rules.sms_href,
    "whatsapp_href": rules.whatsapp_href,
    "mailto_href": rules.mailto_href,
    "safe_href": rules.safe_href,
    "wechat_href": rules.wechat_href,
    "due_label": due_label,
}
