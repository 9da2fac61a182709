"""The synced objects, in the order a pull takes them: a record's parents are linked before it (accounts before the
contacts and opportunities that name them; products and books before the price entries)."""

from integrations.contacts import CONTACT
from integrations.deals import DEAL
from integrations.sync import ACCOUNT, LEAD, PRICE_BOOK, PRICE_ENTRY, PRODUCT, ObjectSpec

SPECS: dict[str, ObjectSpec] = {spec.object: spec for spec in (ACCOUNT, CONTACT, LEAD, DEAL, PRODUCT, PRICE_BOOK, PRICE_ENTRY)}
