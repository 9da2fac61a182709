"""The admin writes through the owners' services (or is read-only): no shortcut leaves derived data stale."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity
from leads.models import Lead, LeadStageChange
from partners.models import CodeChange, Partner
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = factories.UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def partner_admin_data(partner, **changes):
    data = {
        "code": partner.code, "name": partner.name, "kind": partner.kind, "tier": partner.tier_id or "",
        "assigned_to": partner.assigned_to_id or "", "business_potential": "", "website": "", "notes": "",
        "profile": "{}",
    }
    for prefix in ("contact_points", "locations", "status_changes", "code_changes"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(changes)
    return data


def test_a_code_change_in_the_admin_is_recorded(admin_client):
    partner = factories.PartnerFactory(code="OLD-1")
    url = reverse("admin:partners_partner_change", args=[partner.pk])
    response = admin_client.post(url, partner_admin_data(partner, code="NEW-1"))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    partner.refresh_from_db()
    assert partner.code == "NEW-1"
    change = CodeChange.objects.get(partner=partner)
    assert (change.old_code, change.new_code, change.changed_by) == ("OLD-1", "NEW-1", admin_client.user)


def test_a_partner_added_in_the_admin_gets_its_due_date(admin_client):
    response = admin_client.post(
        reverse("admin:partners_partner_add"),
        {**partner_admin_data(Partner(kind="organisation", tier=factories.tier("Gold"))), "code": "A-1", "name": "A"},
    )
    assert response.status_code == 302
    partner = Partner.objects.get(code="A-1")
    assert partner.engagement_due_at == partner.created_at + timedelta(days=14)
    assert partner.created_by == admin_client.user


def test_reps_cannot_change_a_code_on_the_edit_page(rep_client, rep):
    partner = factories.PartnerFactory(code="KEEP-1", assigned_to=rep)
    page = rep_client.get(reverse("partners:edit", args=[partner.pk]))
    assert page.context["form"].fields["code"].disabled
    data = {"name": "Renamed", "code": "CHANGED", "kind": "organisation", "tier": partner.tier_id, "status": "active",
            "status_reason": "", "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0",
            "locations-TOTAL_FORMS": "0", "locations-INITIAL_FORMS": "0"}
    assert rep_client.post(reverse("partners:edit", args=[partner.pk]), data).status_code == 302
    partner.refresh_from_db()
    assert (partner.name, partner.code) == ("Renamed", "KEEP-1")
    assert not CodeChange.objects.exists()


def test_partners_and_history_cannot_be_deleted_in_the_admin(admin_client):
    partner = factories.PartnerFactory()
    assert admin_client.get(reverse("admin:partners_partner_delete", args=[partner.pk])).status_code == 403
    assert Partner.objects.filter(pk=partner.pk).exists()


def test_activities_are_read_only_in_the_admin(admin_client):
    activity = factories.ActivityFactory(start_at=timezone.now() - timedelta(days=1))
    assert admin_client.get(reverse("admin:activities_activity_add")).status_code == 403
    assert admin_client.get(reverse("admin:activities_activity_delete", args=[activity.pk])).status_code == 403
    assert admin_client.get(reverse("admin:activities_activity_change", args=[activity.pk])).status_code == 200
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_a_lead_added_in_the_admin_goes_through_the_service(admin_client):
    partner = factories.PartnerFactory()
    response = admin_client.post(reverse("admin:leads_lead_add"), {
        "name": "Admin lead", "company": "", "email": "", "phone": "", "partner": partner.pk, "assigned_to": "",
        "expected_value": "100", "stage_changes-TOTAL_FORMS": "0", "stage_changes-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    lead = Lead.objects.get(name="Admin lead")
    assert lead.assigned_to == admin_client.user  # lead_create's default: the creator
    assert list(LeadStageChange.objects.filter(lead=lead).values_list("from_stage", "to_stage", "changed_by")) == [
        ("", "new", admin_client.user.pk)]
