"""The admin of customers and segments (leads/admin.py): writes go through leads.customer_services — a segment's new
frequency moves its customers' due dates, a customer's new segment moves its own; nothing is added or deleted by
hand where the services must keep dates in step."""

from datetime import timedelta

import pytest
from django.urls import reverse

from leads.models import Customer, CustomerSegment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_changing_a_segments_frequency_moves_its_customers_due_dates(admin_client, rep):
    weekly = CustomerSegment.objects.create(name="Key accounts", engage_every_days=7)
    customer = factories.CustomerFactory(assigned_to=rep, segment=weekly)
    url = reverse("admin:leads_customersegment_change", args=[weekly.pk])
    response = admin_client.post(url, {"name": "Key accounts", "engage_every_days": "3"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.engagement_due_at == customer.created_at + timedelta(days=3)


def test_a_bad_frequency_is_a_field_error(admin_client):
    standard = factories.segment()
    url = reverse("admin:leads_customersegment_change", args=[standard.pk])
    response = admin_client.post(url, {"name": "Standard", "engage_every_days": "0", "is_default": "on"})
    assert response.status_code == 200 and "engage_every_days" in response.context["adminform"].form.errors
    assert CustomerSegment.objects.get(pk=standard.pk).engage_every_days == 30


def test_deleting_a_segment_moves_its_customers_to_the_default(admin_client, rep):
    weekly = CustomerSegment.objects.create(name="Key accounts", engage_every_days=7)
    customer = factories.CustomerFactory(assigned_to=rep, segment=weekly)
    url = reverse("admin:leads_customersegment_delete", args=[weekly.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    customer.refresh_from_db()
    assert customer.segment is None and customer.engagement_due_at == customer.created_at + timedelta(days=30)
    # the default segment stays (a message says why)
    standard = factories.segment()
    response = admin_client.post(reverse("admin:leads_customersegment_delete", args=[standard.pk]), {"post": "yes"},
                                 follow=True)
    assert "make another segment the default first" in response.content.decode()
    assert CustomerSegment.objects.filter(pk=standard.pk).exists()


def test_customers_are_listed_searched_and_edited_through_the_service(admin_client, rep):
    weekly = CustomerSegment.objects.create(name="Key accounts", engage_every_days=7)
    customer = factories.customer_with_contacts(name="Ravi Stores", assigned_to=rep)
    response = admin_client.get(reverse("admin:leads_customer_changelist"), {"q": "ravi"})
    assert response.status_code == 200 and "Ravi Stores" in response.content.decode()
    url = reverse("admin:leads_customer_change", args=[customer.pk])
    assert admin_client.get(url).status_code == 200
    data = {"name": "Ravi Stores Ltd", "company": "", "email": "", "phone": "", "website": "", "description": "",
            "segment": str(weekly.pk), "assigned_to": str(rep.pk)}
    for prefix in ("contacts", "locations"):  # the read-only inlines' management forms
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    customer.refresh_from_db()
    assert customer.name == "Ravi Stores Ltd" and customer.engagement_due_at == customer.created_at + timedelta(days=7)
    assert admin_client.get(reverse("admin:leads_customer_add")).status_code == 403
    assert admin_client.post(reverse("admin:leads_customer_delete", args=[customer.pk]), {"post": "yes"}).status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()
