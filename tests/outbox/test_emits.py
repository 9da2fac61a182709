"""Each topic is emitted by its owning service, once, in the change's transaction, with the payload a receiver
needs; no-op changes emit nothing; a rolled-back change leaves no event; bulk changes emit in one INSERT."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.services import (
    activity_cancel,
    activity_complete,
    activity_log,
    activity_remind,
    activity_reschedule,
    activity_schedule,
)
from business.imports import import_period_values
from business.models import InactivityRule
from business.services import partners_tag_inactive
from leads.services import lead_convert, lead_create, lead_lose, lead_move, lead_update
from outbox.models import Event
from partners.models import Partner
from partners.services import partner_save, partner_save_contacts_and_locations, partner_set_status, partner_update
from portal import deal_services
from tests import factories
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


def events(topic=None):
    rows = Event.objects.order_by("id")
    if topic:
        rows = rows.filter(topic=topic)
    return [(e.topic, e.subject_type, e.subject_id, e.payload) for e in rows]


def topics():
    return [e.topic for e in Event.objects.order_by("id")]


@pytest.fixture
def partner(rep):
    partner = factories.PartnerFactory(assigned_to=rep, code="ACME", name="Acme")
    Event.objects.all().delete()  # the factory is not what is tested
    return partner


CONTACT = {"id": None, "kind": "email", "value": "a@acme.example", "label": "", "is_primary": True,
           "preferred_channel": ""}
LOCATION = {"id": None, "label": "HQ", "address": "1 Main St", "latitude": None, "longitude": None,
            "is_primary": True}


# --- Partners ---------------------------------------------------------------------------------------------------------


def test_partner_created_once_even_with_contacts(rep):
    partner = partner_save(partner=None, by=rep, fields={"code": "NEW1", "name": "New One", "kind": "organisation",
                                                         "tier": factories.tier("Gold"), "assigned_to": rep},
                           status="active", status_reason="", contacts=[CONTACT], locations=[LOCATION])
    [(topic, subject_type, subject_id, payload)] = events()
    assert (topic, subject_type, subject_id) == ("partner.created", "partner", partner.pk)
    assert payload["code"] == "NEW1" and payload["name"] == "New One" and payload["status"] == "active"
    assert payload["tier_id"] == factories.tier("Gold").pk and payload["assigned_to_id"] == rep.pk
    assert "notes" not in payload and "profile" not in payload


def test_partner_updated_names_every_changed_part_once(partner, rep):
    partner_save(partner=partner, by=rep, fields={"name": "Acme Ltd"}, status="active", status_reason="",
                 contacts=[CONTACT], locations=None)
    [(topic, _type, subject_id, payload)] = events()
    assert (topic, subject_id) == ("partner.updated", partner.pk)
    assert payload["changed"] == ["name", "contacts"] and payload["name"] == "Acme Ltd"


def test_a_save_that_changes_nothing_emits_nothing(partner, rep):
    partner_save_contacts_and_locations(partner=partner, contacts=[CONTACT], locations=[LOCATION])
    Event.objects.all().delete()
    contact = partner.contact_points.get()
    location = partner.locations.get()
    partner_save(partner=partner, by=rep, fields={"name": "Acme"}, status="active", status_reason="",
                 contacts=[{**CONTACT, "id": contact.pk}], locations=[{**LOCATION, "id": location.pk}])
    assert partner_update(partner=partner, by=rep, name="Acme") == []
    assert events() == []


def test_editing_only_a_location_bumps_updated_at_and_emits(partner):
    before = Partner.objects.get(pk=partner.pk).updated_at
    partner_save_contacts_and_locations(partner=partner, locations=[LOCATION])
    after = Partner.objects.get(pk=partner.pk).updated_at
    assert after > before
    [(topic, _type, _id, payload)] = events()
    assert topic == "partner.updated" and payload["changed"] == ["locations"]
    location = partner.locations.get()
    partner_save_contacts_and_locations(partner=partner, locations=[{**LOCATION, "id": location.pk,
                                                                     "address": "2 Main St"}])
    assert Partner.objects.get(pk=partner.pk).updated_at > after
    assert len(events("partner.updated")) == 2
    # the same list again: nothing changed, nothing bumped or emitted
    stamp = Partner.objects.get(pk=partner.pk).updated_at
    partner_save_contacts_and_locations(partner=partner, locations=[{**LOCATION, "id": location.pk,
                                                                     "address": "2 Main St"}])
    assert Partner.objects.get(pk=partner.pk).updated_at == stamp and len(events()) == 2


def test_editing_only_contacts_bumps_updated_at(partner):
    before = Partner.objects.get(pk=partner.pk).updated_at
    partner_save_contacts_and_locations(partner=partner, contacts=[CONTACT])
    assert Partner.objects.get(pk=partner.pk).updated_at > before
    assert [payload["changed"] for *_, payload in events()] == [["contacts"]]
    partner_save_contacts_and_locations(partner=partner, contacts=[])  # deleting is a change too
    assert [payload["changed"] for *_, payload in events()] == [["contacts"], ["contacts"]]


def test_status_changed(partner, rep):
    partner_set_status(partner=partner, status="inactive", reason="closed shop", by=rep)
    [(topic, _type, _id, payload)] = events()
    assert topic == "partner.status_changed"
    assert (payload["from_status"], payload["to_status"], payload["reason"], payload["set_by"]) == (
        "active", "inactive", "closed shop", "manual")
    partner_set_status(partner=partner, status="inactive", reason="closed shop", by=rep)  # no-op
    assert len(events()) == 1


def test_nothing_on_a_rolled_back_transaction(partner, rep):
    with pytest.raises(RuntimeError), transaction.atomic():
        partner_update(partner=partner, by=rep, name="Renamed")
        partner_set_status(partner=partner, status="inactive", reason="x", by=rep)
        assert len(events()) == 2
        raise RuntimeError("the caller fails later")
    assert events() == []


def test_the_inactivity_rules_emit_all_status_changes_in_one_insert(rep):
    old = timezone.now() - timedelta(days=400)
    for n in range(30):
        factories.PartnerFactory(assigned_to=rep, code=f"R{n}")
    Partner.objects.update(created_at=old, last_engaged_at=None)
    rule = InactivityRule.load()
    rule.engagement_enabled, rule.business_enabled = True, False
    rule.save()
    Event.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        result = partners_tag_inactive()
    assert result.deactivated == 30
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT INTO outbox_event")]
    assert len(inserts) == 1
    rows = events("partner.status_changed")
    assert len(rows) == 30
    payload = rows[0][3]
    assert (payload["from_status"], payload["to_status"], payload["set_by"]) == ("active", "inactive", "rule")
    assert payload["reason"].startswith("not engaged for") and payload["code"].startswith("R")
    # a run that changes nothing emits nothing; a dry run writes nothing
    partners_tag_inactive()
    partners_tag_inactive(dry_run=True)
    assert len(events()) == 30


@pytest.mark.parametrize("partners", [3, 30])
def test_the_rules_query_count_does_not_grow_with_partners(rep, django_assert_num_queries, partners):
    rule = InactivityRule.load()
    rule.engagement_enabled, rule.business_enabled = True, False
    rule.save()
    for i in range(partners):
        factories.PartnerFactory(assigned_to=rep, code=f"Q{i}")
    Partner.objects.update(created_at=timezone.now() - timedelta(days=400), last_engaged_at=None)
    # 1. the inactivity rule's settings, 2. the tiers (one engagement rule each)
    # 3. SAVEPOINT, 4. the advisory lock, 5. jit off for the transaction
    # 6-8. one UPDATE per tier's rule (Platinum, Gold, Silver), 9. the UPDATE that reactivates
    # 10. INSERT … SELECT of the status history, 11. INSERT … SELECT of the outbox events (all partners at once)
    # 12. the sample of changes for the report, 13. RELEASE SAVEPOINT
    with django_assert_num_queries(13):
        assert partners_tag_inactive().deactivated == partners
    assert len(events("partner.status_changed")) == partners


# --- Activities -------------------------------------------------------------------------------------------------------


def test_activity_topics(partner, rep):
    call = activity_schedule(partner=partner, by=rep, kind="call", start_at=timezone.now() + timedelta(days=1))
    reminder = activity_remind(partner=partner, by=rep, start_at=timezone.now() + timedelta(days=2), subject="Send")
    logged = activity_log(partner=partner, by=rep, kind="call", start_at=timezone.now() - timedelta(hours=1),
                          outcome="secret-ish notes")
    later = call.start_at + timedelta(hours=2)
    activity_reschedule(activity=call, by=rep, start_at=later, duration_minutes=call.duration_minutes,
                        subject=call.subject, place=call.place, location=call.location)
    activity_reschedule(activity=call, by=rep, start_at=later, duration_minutes=call.duration_minutes,
                        subject=call.subject, place=call.place, location=call.location)  # no change: no event
    activity_complete(activity=call, by=rep, outcome="ok")
    activity_cancel(activity=reminder, by=rep)
    rows = [(t, s, i) for t, s, i, _p in events() if s == "activity"]
    assert rows == [("activity.scheduled", "activity", call.pk), ("activity.scheduled", "activity", reminder.pk),
                    ("activity.done", "activity", logged.pk), ("activity.rescheduled", "activity", call.pk),
                    ("activity.done", "activity", call.pk), ("activity.cancelled", "activity", reminder.pk)]
    assert events("activity.rescheduled")[0][3]["start_at"].startswith(later.strftime("%Y-%m-%dT%H:%M:%S"))
    done = events("activity.done")[-1][3]
    assert done["status"] == "done" and done["partner_id"] == partner.pk and done["owner_id"] == rep.pk
    assert done["completed_at"] and "outcome" not in done


# --- Leads ------------------------------------------------------------------------------------------------------------


def test_lead_topics(partner, rep):
    lead = lead_create(by=rep, name="Bob", partner=partner, expected_value=Decimal("100.50"), email="bob@x.example")
    assert lead_update(lead=lead, by=rep, name="Bob B") == ["name"]
    assert lead_update(lead=lead, by=rep, name="Bob B") == []  # nothing changed: no event
    lead_move(lead=lead, to_stage="contacted", by=rep)
    customer = lead_convert(lead=lead, by=rep)
    other = lead_create(by=rep, name="Eve", partner=partner)
    lead_lose(lead=other, by=rep, reason="no budget")
    assert topics() == ["lead.created", "lead.updated", "lead.stage_changed", "lead.converted", "lead.created",
                        "lead.stage_changed"]
    created, updated, moved, converted, _created2, lost = (payload for *_, payload in events())
    assert (updated["name"], updated["changed"]) == ("Bob B", ["name"])
    assert created["expected_value"] == "100.50" and created["partner_id"] == partner.pk and "email" not in created
    assert (moved["from_stage"], moved["stage"]) == ("new", "contacted")
    assert (converted["from_stage"], converted["stage"], converted["customer_id"]) == ("contacted", "won", customer.pk)
    assert (lost["stage"], lost["lost_reason"]) == ("lost", "no budget")


# --- Deals ------------------------------------------------------------------------------------------------------------


def test_deal_topics(partner, rep):
    member = make_member(partner)
    registration = deal_services.deal_save(member=member, company="Initech", domain="initech.com",
                                           contact_name="Bill", contact_email="bill@initech.com",
                                           amount=Decimal("5000"), currency="EUR", expected_close=date(2027, 3, 31))
    assert events() == []  # a draft is not submitted
    deal_services.deal_submit(registration=registration, member=member)
    deal_services.deal_submit(registration=registration, member=member)  # a double submit is one submission
    decided = deal_services.deal_decide(registration=registration, by=rep, decision="approve", reason="Fine")
    assert topics() == ["deal.submitted", "lead.created", "deal.decided"]
    submitted, _lead, decision = (payload for *_, payload in events())
    assert submitted["status"] == "submitted" and submitted["number"] == registration.number
    assert submitted["company"] == "Initech" and "contact_email" not in submitted and "notes" not in submitted
    assert (decision["status"], decision["lead_id"], decision["decision_reason"]) == ("approved", decided.lead_id,
                                                                                       "Fine")


# --- Achievements -----------------------------------------------------------------------------------------------------


def test_one_event_per_upload_batch(rep):
    for code in ("U1", "U2", "U3"):
        factories.PartnerFactory(code=code, assigned_to=rep)
    Event.objects.all().delete()
    month = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    content = "partner_code,parameter,period,value\n" + "".join(
        f"{code},revenue,{month:%Y-%m},{n * 100}\n" for n, code in enumerate(("U1", "U2", "U3"), start=1))

    def upload():
        return import_period_values(file=io.BytesIO(content.encode()), file_name="june.csv", kind="achievements",
                                    user=rep, dry_run=False)

    result = upload()
    [(topic, subject_type, subject_id, payload)] = events()
    assert (topic, subject_type, subject_id) == ("achievements.uploaded", "upload_batch", result.batch.pk)
    assert (payload["rows_total"], payload["rows_created"], payload["rows_updated"]) == (3, 3, 0)
    assert payload["parameters"] == ["revenue"] and payload["partners"] == 3
    assert payload["period_from"] == payload["period_to"] == month.isoformat()
    assert payload["file_name"] == "june.csv" and payload["uploaded_by_id"] == rep.pk
    upload()  # the same file again changes nothing: no event
    assert len(events()) == 1
