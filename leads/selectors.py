"""Reads of leads and customers. Callers pass a partner they already scoped."""

from leads.models import Customer, Lead
from partners.models import Partner
from partners.selectors import PAGE_LIST_LIMIT, capped


def partner_leads_and_customers(*, partner: Partner, limit: int = PAGE_LIST_LIMIT) -> dict:
    """The partner page's leads (newest first) and customers, two queries, each capped at ``limit`` rows
    (``leads_more`` / ``customers_more`` say when there are more)."""
    leads, leads_more = capped(
        Lead.objects.filter(partner=partner)
        .only("partner_id", "name", "company", "stage", "value", "expected_value", "created_at")
        .order_by("-created_at", "-id"),
        limit,
    )
    customers, customers_more = capped(
        Customer.objects.filter(partner=partner).only("partner_id", "name", "company", "created_at")
        .order_by("-created_at", "-id"),
        limit,
    )
    return {"leads": leads, "leads_more": leads_more, "customers": customers, "customers_more": customers_more}
