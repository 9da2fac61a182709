"""The partner search document: one lower-cased text per partner (name, code, contact values, and phone numbers as
digits only), indexed with one trigram GIN index (``partner_search_trgm_idx``), so a search is one indexed
``LIKE '%…%'`` on one column instead of a UNION over three tables.

``partners.services.partners_search_refresh`` keeps the column in step; every writer of partner names, codes and
contact points calls it (the partner services, the demo loader, later the sync). The SQL lives here so the refresh
and the query normalise text the same way (PostgreSQL's ``lower``; digits via ``regexp_replace``).
"""

import re

from partners.models import ContactPoint

PHONE_KINDS = (ContactPoint.Kind.PHONE, ContactPoint.Kind.MOBILE, ContactPoint.Kind.WHATSAPP)
_PHONE_LIKE = re.compile(r"^[+(\d][\d\s().\-/]*$")

# Contact values, plus the digits of phone-like values, per partner; joined to the partner's name and code. The
# ``{where}`` placeholder is empty (all partners) or ``= ANY(%s)`` on the ids, in both the aggregate and the UPDATE.
REFRESH_SQL = """
UPDATE partners_partner p SET search_document = d.document{touch}
FROM (
    SELECT p2.id, lower(concat_ws(' ', p2.name, p2.code, c.contact_values, c.phone_digits)) AS document
    FROM partners_partner p2
    LEFT JOIN (
        SELECT partner_id,
               string_agg(DISTINCT value, ' ' ORDER BY value) AS contact_values,
               string_agg(DISTINCT regexp_replace(value, '[^0-9]', '', 'g'), ' '
                          ORDER BY regexp_replace(value, '[^0-9]', '', 'g'))
                   FILTER (WHERE kind = ANY(%(phone_kinds)s)) AS phone_digits
        FROM partners_contactpoint
        {contact_where}
        GROUP BY partner_id
    ) c ON c.partner_id = p2.id
    {partner_where}
) d
WHERE p.id = d.id{changed_only}
"""


def refresh_sql(*, some: bool, touch: bool = False) -> str:
    """The refresh statement for all partners, or (``some``) for the ids passed as ``%(ids)s``. It writes only the
    documents that changed, unless ``touch``: then every partner meant also gets ``updated_at = %(touched_at)s`` in
    the same row write (a second UPDATE of the same rows would cost as much again)."""
    return REFRESH_SQL.format(
        contact_where="WHERE partner_id = ANY(%(ids)s)" if some else "",
        partner_where="WHERE p2.id = ANY(%(ids)s)" if some else "",
        touch=", updated_at = %(touched_at)s" if touch else "",
        changed_only="" if touch else " AND p.search_document IS DISTINCT FROM d.document",
    )


def search_term(value: str) -> str:
    """What to look for in the document: the typed text, lower-cased by the query; a phone-like entry ("+91 98765
    43210", "(080) 4123-4567") as its digits, since the document holds every phone number as digits too."""
    value = " ".join(value.split())
    if _PHONE_LIKE.match(value) and sum(ch.isdigit() for ch in value) >= 3:
        return re.sub(r"\D", "", value)
    return value
