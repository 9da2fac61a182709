"""devtools.demo_library: the demo library is built through the services, once, and partners see their part."""

import pytest

from devtools.demo_library import RESOURCES, library_seed
from library import selectors
from library.models import Category, Resource
from notifications.models import Notification
from partners.models import Partner
from portal.models import PortalEvent
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_demo_library(acme, acme_admin):
    individual = factories.PartnerFactory(tier=factories.tier("Silver"), kind=Partner.Kind.INDIVIDUAL)
    assert library_seed() == len(RESOURCES)
    assert library_seed() == 0  # once
    assert Resource.objects.filter(published=True).count() == len(RESOURCES)
    assert not Category.objects.filter(parent__parent__isnull=False).exists()  # two levels at most
    assert not PortalEvent.objects.exists() and not Notification.objects.exists()  # published silently
    gold = set(selectors.resources_visible_to(partner=acme).values_list("title", flat=True))
    assert "Gold price list" in gold and "Platinum price list" not in gold
    assert "Selling as an independent agent" in selectors.resources_visible_to(partner=individual) \
        .values_list("title", flat=True)
    assert [r.title for r in selectors.resource_search(partner=acme, q="register a deal").rows][0] == \
        "How to register a deal"
