"""leads.selectors (who sees which lead) and leads.filters' period presets."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from leads.filters import period_range
from leads.selectors import lead_get_for_user, leads_visible_to
from tests import factories

pytestmark = pytest.mark.django_db


def test_visibility(rep, other_rep, manager):
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    own = factories.LeadFactory(partner=mine)
    on_my_partner_for_them = factories.LeadFactory(partner=mine, assigned_to=other_rep)
    handed_to_me = factories.LeadFactory(partner=theirs, assigned_to=rep)
    direct_mine = factories.LeadFactory(partner=None, assigned_to=rep)
    theirs_only = factories.LeadFactory(partner=theirs)
    direct_nobody = factories.LeadFactory(partner=None, assigned_to=None)
    assert set(leads_visible_to(rep)) == {own, on_my_partner_for_them, handed_to_me, direct_mine}
    assert set(leads_visible_to(other_rep)) == {on_my_partner_for_them, handed_to_me, theirs_only}
    assert set(leads_visible_to(manager)) == {own, on_my_partner_for_them, handed_to_me, direct_mine, theirs_only,
                                              direct_nobody}
    assert not leads_visible_to(AnonymousUser()).exists()
    rep.is_active = False
    assert not leads_visible_to(rep).exists()


def test_lead_get_for_user(rep, other_rep):
    lead = factories.LeadFactory(partner=factories.PartnerFactory(assigned_to=other_rep))
    with pytest.raises(Http404):
        lead_get_for_user(rep, lead.pk)
    assert lead_get_for_user(other_rep, lead.pk) == lead


@pytest.mark.parametrize("preset, today, expected", [
    ("this_month", date(2026, 1, 15), (date(2026, 1, 1), date(2026, 2, 1))),
    ("last_month", date(2026, 1, 15), (date(2025, 12, 1), date(2026, 1, 1))),
    ("this_month", date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
    ("this_quarter", date(2026, 11, 15), (date(2026, 10, 1), date(2027, 1, 1))),
    ("last_quarter", date(2026, 2, 1), (date(2025, 10, 1), date(2026, 1, 1))),
    ("this_year", date(2026, 6, 1), (date(2026, 1, 1), date(2027, 1, 1))),
    ("last_year", date(2026, 6, 1), (date(2025, 1, 1), date(2026, 1, 1))),
])
def test_period_presets(preset, today, expected):
    assert period_range(preset, today) == expected
