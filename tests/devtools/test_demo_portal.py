"""devtools.demo_portal: the partner portal's demo data (small), through seed_demo and --portal-only."""

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q

from devtools import demo, demo_portal
from partners.models import Partner
from portal.models import Announcement, DealEvent, DealRegistration, Membership, PortalEvent

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)
MIDNIGHT = datetime(2026, 11, 23, tzinfo=UTC)


def test_portal_seed_makes_users_memberships_registrations_and_a_feed(client):
    demo.demo_seed(partners=12, seed=3, today=TODAY)
    summary = demo_portal.portal_seed(seed=3, today=TODAY, registrations_per_partner=20)
    assert (summary.users, summary.memberships, summary.registrations) == (36, 36, 240)
    assert summary.logins == ["partner1", "partner2", "partner3"]
    first = Partner.objects.order_by("id").first()
    # Three people per partner, the first an admin; only the demo logins have a usable password.
    per_partner = Membership.objects.values("partner").annotate(n=Count("id"), admins=Count("id", filter=Q(role="admin")))
    assert {(row["n"], row["admins"]) for row in per_partner} == {(3, 1)}
    admin = Membership.objects.select_related("user").get(partner=first, role="admin").user
    assert admin.username == "partner1" and admin.has_usable_password() and admin.check_password(demo.DEMO_PASSWORD)
    User = get_user_model()
    assert User.objects.filter(membership__isnull=False).exclude(username__in=summary.logins).filter(
        password__startswith="!").count() == 33
    assert not User.objects.filter(membership__isnull=False, is_staff=True).exists()
    # Registrations in every status, reviewed by the partner's rep, created by one of its users, dated by status.
    registrations = DealRegistration.objects.select_related("partner", "created_by__membership")
    assert {r.status for r in registrations} == set(DealRegistration.Status.values)
    for r in registrations:
        assert r.reviewer_id == r.partner.assigned_to_id
        assert r.created_by.membership.partner_id == r.partner_id
        assert r.domain_reversed == r.domain[::-1] and r.domain == r.domain.lower()
        assert (r.submitted_at is None) == (r.status == "draft")
        if r.status in ("approved", "won_pending"):
            assert r.protection_expires_at > MIDNIGHT
        if r.status == "expired":
            assert r.protection_expires_at < MIDNIGHT
        assert r.created_at <= MIDNIGHT
    assert DealEvent.objects.filter(status="submitted").count() == registrations.exclude(status="draft").count()
    assert PortalEvent.objects.filter(kind="deal_decided").exists()
    assert PortalEvent.objects.filter(kind="announcement").count() == 12
    assert Announcement.objects.count() == len(demo_portal.ANNOUNCEMENTS)
    # New rows after the seed get fresh ids (the sequences moved past the explicit ones).
    assert DealRegistration.objects.create(partner=first, company="After").pk > max(r.pk for r in registrations)
    # The demo login reaches the portal home.
    response = client.post("/accounts/login/", {"username": "partner1", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    response = client.get("/portal/")
    assert response.status_code == 200 and "Welcome," in response.content.decode()
    with pytest.raises(ValueError):
        demo_portal.portal_seed(seed=3, today=TODAY)  # already there


def test_seed_demo_adds_the_portal_prints_its_login_and_portal_only_works_on_a_seeded_database(capsys):
    call_command("seed_demo", "--partners", "4")
    out = capsys.readouterr().out
    assert "'partner1'" in out and "/portal/" in out
    assert Membership.objects.count() == 12 and DealRegistration.objects.count() == 20
    with pytest.raises(CommandError):
        call_command("seed_demo", "--portal-only")  # there already
    demo_portal.portal_clear()
    assert not Membership.objects.exists() and not get_user_model().objects.filter(username="partner1").exists()
    assert Partner.objects.count() == 4  # the rest of the demo stays
    call_command("seed_demo", "--portal-only")
    assert Membership.objects.count() == 12 and "'partner1'" in capsys.readouterr().out
    # --replace clears the portal (and its users) with the partners.
    call_command("seed_demo", "--partners", "2", "--replace")
    assert Membership.objects.count() == 6 and get_user_model().objects.filter(username__startswith="partner").count() == 6
