"""The outbox's admin pages: read-only lists for ops (writes go through outbox.services only)."""

import pytest

from outbox.services import event_emit, tombstones_record
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(factories.UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def test_events_and_tombstones_are_listed_read_only(admin_client):
    event = event_emit(topic="partner.created", subject_type="partner", subject_id=41, payload={"name": "<b>x</b>"})
    assert event is None
    tombstones_record(subject_type="target", subject_ids=[42])
    events_page = admin_client.get("/admin/outbox/event/")
    assert events_page.status_code == 200 and b"partner.created" in events_page.content
    tombstones_page = admin_client.get("/admin/outbox/tombstone/")
    assert tombstones_page.status_code == 200 and b"42" in tombstones_page.content
    assert admin_client.get("/admin/outbox/event/add/").status_code == 403
    assert admin_client.get("/admin/outbox/tombstone/add/").status_code == 403
