"""How a partner is contacted: the quick-action rules (which contact kinds give call / SMS / WhatsApp / email), the
links they make, and the one rule for any link we emit from stored values (only safe schemes).

The partner list (``partners.selectors.partner_list_rows`` loads the primaries these rules need) and the partner
page use the same functions; templates render the result through ``partners/_quick_actions.html``.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from partners.models import ContactPoint, Location

K = ContactPoint.Kind
# For each quick action, the contact kinds to use, in order of preference.
ACTION_KINDS = {
    "call": (K.MOBILE, K.PHONE, K.WHATSAPP),
    "sms": (K.MOBILE, K.PHONE),
    "whatsapp": (K.WHATSAPP, K.MOBILE),
    "email": (K.EMAIL,),
}
ACTION_LABELS = {"call": "Call", "sms": "Message", "whatsapp": "WhatsApp", "email": "Email", "navigate": "Navigate"}
# Actions that open another site or app: a new tab.
NEW_TAB_ACTIONS = ("whatsapp", "navigate")
# Every contact kind any quick action may use (what the list loads per row).
QUICK_ACTION_KINDS = tuple(dict.fromkeys(kind for kinds in ACTION_KINDS.values() for kind in kinds))

SAFE_SCHEMES = ("http", "https", "mailto", "tel", "sms")


@dataclass(frozen=True)
class QuickAction:
    action: str  # call / sms / whatsapp / email / navigate
    href: str
    title: str  # the contact value or the location

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.action]

    @property
    def new_tab(self) -> bool:
        return self.action in NEW_TAB_ACTIONS


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


HREF_MAKERS = {"call": tel_href, "sms": sms_href, "whatsapp": whatsapp_href, "email": mailto_href}


def safe_href(value: object) -> str:
    """``value`` when it is a link with a safe scheme (http, https, mailto, tel, sms — wa.me is https), else "".

    Applied when rendering, whatever the field's type was when the value was saved: a stored ``javascript:`` or
    ``data:`` URL never becomes a live link.
    """
    text = str(value or "").strip()
    if not text or any(ord(c) < 32 or c.isspace() for c in text):
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


def quick_actions(primary: dict[str, str], location: Location | None) -> list[QuickAction]:
    """Links for call / sms / WhatsApp / email / navigate.

    ``primary`` is ``{kind: value}`` of the partner's primary contact points, ``location`` its primary Location (or
    None).
    """
    actions = []
    for action, kinds in ACTION_KINDS.items():
        value = next((primary[kind] for kind in kinds if primary.get(kind)), None)
        href = HREF_MAKERS[action](value) if value else ""
        if href:
            actions.append(QuickAction(action, href, value))
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
