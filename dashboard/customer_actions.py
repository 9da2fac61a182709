"""One-tap contact links of a customer (call / SMS / WhatsApp / WeChat / email / navigate, each with "Log this …"),
for the customer list, the customer page and Today: the partner rules and HTML (``partners.contacts.quick_actions``,
``partners.templating.quick_actions_html``) with the customer's log form. Python, not a template: it runs per row."""

from django.urls import reverse
from markupsafe import Markup

from partners import contacts as rules
from partners.templating import quick_actions_html

_SENTINEL = 987654321
_LOG_URL: list[str] = []


def customer_log_url(customer_id: int) -> str:
    """The customer's log form (``customer_activities:log``), reversed once per process."""
    if not _LOG_URL:
        _LOG_URL.append(reverse("customer_activities:log", args=[_SENTINEL]))
    return _LOG_URL[0].replace(str(_SENTINEL), str(int(customer_id)))


def customer_quick_actions(
    *, customer_id: int, name: str, primary: dict, ids: dict | None, location, navigate: bool = True
) -> Markup:
    """The links from a customer's primary contacts (``{kind: value}``, ``ids``: ``{kind: contact id}``) and primary
    location (a ``partners`` Location, or None); without ``navigate`` no map link (Today's meeting card has its
    own)."""
    actions = rules.quick_actions(primary, location, ids=ids)
    if not navigate:
        actions = [action for action in actions if action.action != "navigate"]
    return quick_actions_html(actions, name, customer_log_url(customer_id))


def customer_row_actions(customer, *, navigate: bool = True) -> Markup:
    """The quick actions of a row from ``leads.customer_selectors.customer_list_rows``."""
    return customer_quick_actions(
        customer_id=customer.pk, name=customer.name, primary=customer.primary_contacts,
        ids=customer.primary_contact_ids, location=customer.primary_location, navigate=navigate,
    )
