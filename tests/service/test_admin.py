"""The admin: service levels are edited there (through service.services.service_level_save, one per priority, never
added or deleted); tickets are read-only."""

import pytest

from service.models import ServiceLevel
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_service_levels_are_edited_in_the_admin(admin_client):
    level = ServiceLevel.objects.get(priority="urgent")
    url = f"/admin/service/servicelevel/{level.pk}/change/"
    assert admin_client.get("/admin/service/servicelevel/").status_code == 200
    response = admin_client.post(url, {"first_response_minutes": 30, "resolution_minutes": 120})
    assert response.status_code == 302
    level.refresh_from_db()
    assert (level.first_response_minutes, level.resolution_minutes) == (30, 120)
    # Refused with the field named: a resolution shorter than the first response, out of range, not a number.
    for data in ({"first_response_minutes": 60, "resolution_minutes": 30},
                 {"first_response_minutes": 0, "resolution_minutes": 30},
                 {"first_response_minutes": 60, "resolution_minutes": 10**9},
                 {"first_response_minutes": "soon", "resolution_minutes": 30}):
        response = admin_client.post(url, data)
        assert response.status_code == 200 and response.context["adminform"].form.errors, data
    level.refresh_from_db()
    assert (level.first_response_minutes, level.resolution_minutes) == (30, 120)
    assert admin_client.get("/admin/service/servicelevel/add/").status_code == 403
    assert admin_client.post(f"/admin/service/servicelevel/{level.pk}/delete/").status_code == 403


def test_tickets_are_read_only_in_the_admin(admin_client, customer):
    ticket = factories.ticket(customer, subject="Read me")
    assert "Read me" in admin_client.get("/admin/service/ticket/").content.decode()
    assert admin_client.get(f"/admin/service/ticket/{ticket.pk}/change/").status_code == 200
    assert admin_client.get("/admin/service/ticket/add/").status_code == 403
    admin_client.post(f"/admin/service/ticket/{ticket.pk}/change/", {"subject": "Changed"})
    ticket.refresh_from_db()
    assert ticket.subject == "Read me"
