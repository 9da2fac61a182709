"""devtools.demo_onboarding: the demo's pages and track (every step kind when the library's demo resources are there),
written once."""

from devtools.demo_onboarding import onboarding_seed
from library.models import ContentPage, Step, Track
from library.onboarding_selectors import pages_for
from tests.factories import PartnerFactory, tier


def test_demo_pages_and_a_track_of_every_kind(guide, video):
    guide.title = "Welcome to the partner programme"
    guide.save()
    assert onboarding_seed() == 6
    assert onboarding_seed() == 0  # once
    assert set(Step.objects.values_list("kind", flat=True)) == set(Step.Kind.values)
    assert Track.objects.get().published
    gold = [p.title for p in pages_for(partner=PartnerFactory(tier=tier("Gold")))]
    assert gold[:2] == ["Getting started", "FAQ for Gold partners"]
    assert ContentPage.objects.filter(kind=ContentPage.Kind.FAQ).count() >= 3
