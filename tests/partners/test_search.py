"""The partner search document (partners/search.py): kept in step by the services, one LIKE on one column."""

import pytest

from partners.models import ContactPoint, Partner
from partners.search import search_term
from partners.selectors import partner_list
from partners.services import partner_save_contacts_and_locations, partner_update, partners_search_refresh
from tests import factories

pytestmark = pytest.mark.django_db


def found(user, q):
    return sorted(partner_list(user=user, data={"q": q}).values_list("name", flat=True))


def document(partner):
    return Partner.objects.values_list("search_document", flat=True).get(pk=partner.pk)


def test_services_keep_the_document_in_step(manager):
    partner = factories.PartnerFactory(name="Lotus Traders", code="LT-1")
    assert document(partner) == "lotus traders lt-1"
    partner_update(partner=partner, by=manager, name="Lotus Retail")
    partner_save_contacts_and_locations(partner=partner, contacts=[
        {"kind": ContactPoint.Kind.MOBILE, "value": "+91 98450 12345", "label": "", "is_primary": True},
        {"kind": ContactPoint.Kind.EMAIL, "value": "Owner@Lotus.example", "label": "", "is_primary": True},
    ])
    assert found(manager, "lotus retail") == ["Lotus Retail"]
    assert found(manager, "traders") == []  # the old name is gone
    assert found(manager, "OWNER@lotus") == ["Lotus Retail"]  # any case
    partner_save_contacts_and_locations(partner=partner, contacts=[])
    assert found(manager, "owner@") == []  # a deleted contact is no longer found


def test_a_phone_number_matches_however_it_is_typed(manager):
    partner = factories.PartnerFactory(name="Phone Co")
    factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.MOBILE, value="+91 98450-12345")
    for typed in ("9845012345", "98450 12345", "+91 98450 12345", "(984) 501-2345", "98450-12"):
        assert found(manager, typed) == ["Phone Co"], typed
    assert found(manager, "98451") == []


def test_like_wildcards_in_the_search_are_literal(manager):
    factories.PartnerFactory(name="100% Fresh")
    factories.PartnerFactory(name="1000 Fresh")
    factories.PartnerFactory(name="Under_score")
    factories.PartnerFactory(name="Underscore")
    assert found(manager, "100%") == ["100% Fresh"]
    assert found(manager, "under_") == ["Under_score"]
    assert found(manager, "   ") == sorted(Partner.objects.values_list("name", flat=True))


def test_search_term_normalises_spaces_and_phone_numbers():
    assert search_term("  Blue   Harbor ") == "Blue Harbor"
    assert search_term("+91 (80) 4123-4567") == "918041234567"
    assert search_term("12") == "12"  # too short to be a phone number: as typed
    assert search_term("A-12 Block") == "A-12 Block"


def test_bulk_refresh_rewrites_only_changed_documents(rep):
    partners = [factories.PartnerFactory(name=f"Bulk {n}", assigned_to=rep) for n in range(3)]
    assert partners_search_refresh() == 0  # already in step
    Partner.objects.filter(pk=partners[0].pk).update(name="Renamed in bulk")  # a bulk writer, e.g. a loader
    assert partners_search_refresh(partner_ids=[partners[0].pk]) == 1
    assert found(rep, "renamed") == ["Renamed in bulk"]
