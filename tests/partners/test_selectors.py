import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from partners.selectors import partner_get_for_user, partner_visible_to
from tests import factories

pytestmark = pytest.mark.django_db


def test_rep_sees_only_their_partners_and_manager_sees_all(rep, other_rep, manager):
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    unassigned = factories.PartnerFactory(assigned_to=None)
    assert set(partner_visible_to(rep)) == {mine}
    assert set(partner_visible_to(other_rep)) == {theirs}
    assert set(partner_visible_to(manager)) == {mine, theirs, unassigned}


def test_rep_cannot_get_another_reps_partner_by_any_lookup(rep, other_rep):
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    with pytest.raises(Http404):
        partner_get_for_user(rep, theirs.pk)
    assert not partner_visible_to(rep).filter(code=theirs.code).exists()
    assert not partner_visible_to(rep).filter(name=theirs.name).exists()


def test_anonymous_and_inactive_users_see_nothing(rep):
    factories.PartnerFactory(assigned_to=rep)
    assert not partner_visible_to(AnonymousUser()).exists()
    rep.is_active = False
    rep.save()
    assert not partner_visible_to(rep).exists()


def test_superuser_sees_all(rep):
    factories.PartnerFactory(assigned_to=rep)
    admin = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    assert partner_visible_to(admin).count() == 1
