"""How a partner is contacted: the quick-action rules (which contact kinds give call / SMS / WhatsApp / email), the
links they make, and the one rule for any link we emit from stored values (only safe schemes).

The partner list (``partners.selectors.partner_list_rows`` loads the primaries these rules need) and the partner
page use the same functions; templates render the result through ``partners/_quick_actions.html``.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from partners.models import ContactPoint, Location

K = ContactPoint.Kind
# For each quick action, the contact kinds to use, in order of preference.
ACTION_KINDS = {
    "call": (K.MOBILE, K.PHONE, K.WHATSAPP),
    "sms": (K.MOBILE, K.PHONE),
    "whatsapp": (K.WHATSAPP, K.MOBILE),
    "email": (K.EMAIL,),
    "wechat": (K.WECHAT,),
}
ACTION_LABELS = {
    "call": "Call", "sms": "Message", "whatsapp": "WhatsApp", "email": "Email", "wechat": "WeChat",
    "navigate": "Navigate",
}
# What a quick action records when the rep logs it ("Log this call"): the activity kind; the channel is the action's
# name (ContactPoint.Channel has the same values as the contact actions).
ACTION_ACTIVITY_KIND = {"call": "call", "sms": "message", "whatsapp": "message", "wechat": "message", "email": "email"}
# Actions that open another site or app: a new tab.
NEW_TAB_ACTIONS = ("whatsapp", "navigate")
# Every contact kind any quick action may use (what the list loads per row).
QUICK_ACTION_KINDS = tuple(dict.fromkeys(kind for kinds in ACTION_KINDS.values() for kind in kinds))

SAFE_SCHEMES = ("http", "https", "mailto", "tel", "sms", "weixin")


@dataclass(frozen=True)
class QuickAction:
    action: str  # call / sms / whatsapp / wechat / email / navigate
    href: str
    title: str  # the contact value or the location
    contact_id: int | None = None  # the contact point it uses (for "Log this …"), when known
    preferred: str = ""  # "preferred" (marked on the contact) or "detected" (from logged engagements), else ""

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.action]

    @property
    def new_tab(self) -> bool:
        return self.action in NEW_TAB_ACTIONS


_CONTROL_OR_SPACE = re.compile(r"[\x00-\x1f\s]")  # no link holds a control character or a space


def _digits(value: str) -> str:
    return re.sub(r"[^0-9]", "", value or "")


def _phone(value: str) -> str:
    value = (value or "").strip()
    return ("+" if value.startswith("+") else "") + _digits(value)


def tel_href(value: str) -> str:
    """``tel:`` link of a phone number: digits, keeping a leading +."""
    return "tel:" + _phone(value)


def sms_href(value: str) -> str:
    return "sms:" + _phone(value)


def whatsapp_href(value: str) -> str:
    return "https://wa.me/" + _digits(value)


def mailto_href(value: str) -> str:
    return safe_href("mailto:" + (value or "").strip())


def wechat_href(value: str) -> str:
    """WeChat's link that opens a chat with a WeChat id in the app (``weixin://dl/chat?<id>``)."""
    value = (value or "").strip()
    return "weixin://dl/chat?" + quote(value, safe="") if value else ""


HREF_MAKERS = {
    "call": tel_href, "sms": sms_href, "whatsapp": whatsapp_href, "email": mailto_href, "wechat": wechat_href,
}


def safe_href(value: object) -> str:
    """``value`` when it is a link with a safe scheme (http, https, mailto, tel, sms — wa.me is https), else "".

    Applied when rendering, whatever the field's type was when the value was saved: a stored ``javascript:`` or
    ``data:`` URL never becomes a live link.
    """
    text = str(value or "").strip()
    if not text or _CONTROL_OR_SPACE.search(text):
        return ""
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return ""
    if scheme not in SAFE_SCHEMES:
        return ""
    if scheme in ("http", "https") and not urlsplit(text).netloc:
        return ""
    return text


def quick_actions(
    primary: dict[str, str],
    location: Location | None,
    *,
    ids: dict[str, int] | None = None,
    preferred: dict | None = None,
    detected: str = "",
) -> list[QuickAction]:
    """Links for call / sms / WhatsApp / WeChat / email / navigate, the partner's preferred one first.

    ``primary`` is ``{kind: value}`` of the partner's primary contact points (``ids``: ``{kind: contact id}`` of the
    same), ``location`` its primary Location (or None). The preferred action: ``preferred`` (``{"channel", "kind",
    "value", "id"}`` of the contact marked as the partner's preferred messenger), else the ``detected`` channel (the
    most used in its logged engagements, ``activities.selectors.channels_detected``) over its primary contacts.
    """
    ids = ids or {}
    actions = []
    for action, kinds in ACTION_KINDS.items():
        kind = next((kind for kind in kinds if primary.get(kind)), None)
        href = HREF_MAKERS[action](primary[kind]) if kind else ""
        if href:
            actions.append(QuickAction(action, href, primary[kind], ids.get(kind)))
    first = None
    if preferred and preferred.get("channel") in HREF_MAKERS:
        channel = preferred["channel"]
        href = HREF_MAKERS[channel](preferred.get("value") or "")
        if href:
            first = QuickAction(channel, href, preferred["value"], preferred.get("id"), "preferred")
    if first is None and detected in HREF_MAKERS:
        found = next((a for a in actions if a.action == detected), None)
        if found is not None:
            first = QuickAction(found.action, found.href, found.title, found.contact_id, "detected")
    if first is not None:
        actions = [first] + [a for a in actions if a.action != first.action]
    if location is not None:
        actions.append(QuickAction("navigate", location.maps_url, str(location)))
    return actions


def primaries(contacts: list[ContactPoint], locations: list[Location]) -> tuple[dict[str, str], Location | None]:
    """The primary contact value per kind and the primary location, from loaded lists."""
    primary: dict[str, str] = {}
    for contact in contacts:
        if contact.is_primary:
            primary.setdefault(contact.kind, contact.value)
    return primary, next((location for location in locations if location.is_primary), None)


def primary_ids(contacts: list[ContactPoint]) -> dict[str, int]:
    """``{kind: id}`` of the primary contact points, from a loaded list."""
    return {contact.kind: contact.pk for contact in contacts if contact.is_primary}


def preferred_contact(contacts: list[ContactPoint]) -> dict | None:
    """The contact marked as the partner's preferred messenger, as ``quick_actions`` takes it, from a loaded list."""
    for contact in contacts:
        if contact.preferred_channel:
            return {"channel": contact.preferred_channel, "kind": contact.kind, "value": contact.value,
                    "id": contact.pk}
    return None


def log_params(action: QuickAction) -> dict[str, str]:
    """The log form's prefill for "Log this …" after ``action`` (kind, channel, contact), or {} (navigate)."""
    kind = ACTION_ACTIVITY_KIND.get(action.action)
    if kind is None:
        return {}
    params = {"kind": kind, "channel": action.action}
    if action.contact_id:
        params["contact"] = str(action.contact_id)
    return params
