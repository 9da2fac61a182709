"""Contact points ↔ Contact, both ways, through the real connector against the local Salesforce: pull (labels, kinds,
primaries, changes, emptied channels, deletions, unknown accounts, invalid values), push from the outbox's "crm"
consumer (create, update, clear), no echo either way, and a constant number of queries per page."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.contacts import CONTACT, contact_name
from integrations.models import ExternalRef, FieldMapping, SyncLog, SyncObject
from integrations.services import (
    connection_pull,
    connection_push,
    connection_resync,
    crm_push_pending,
    mapping_save,
)
from integrations.sync import Context, Counts, pull_page_commit
from outbox.models import Event
from partners.models import ContactPoint, Partner
from partners.services import partner_save_contacts_and_locations, partner_update
from tests.factories import ContactPointFactory, PartnerFactory, manager_user


def _account(fake_sf, sf_connection, name="Acme"):
    """An Account pulled into PRM: (Account Id, its partner)."""
    account = fake_sf.put("Account", Name=name)
    connection_pull(connection_id=sf_connection.pk)
    return account, Partner.objects.get(name=name)


def _points(partner):
    return {p.kind: p for p in ContactPoint.objects.filter(partner=partner)}


def _contact_events():
    return Event.objects.filter(topic="partner.updated", payload__changed=["contacts"]).count()


def _contact(fake_sf, point):
    return next(r for r in fake_sf.records["Contact"].values() if r.get("PRM_Contact_Id__c") == str(point.pk))


def _contacts_as_ui(partner, contacts):
    """Save the partner's contact list as the partner form does (existing rows keep their id)."""
    partner_save_contacts_and_locations(partner=partner, contacts=contacts)


def _rows(partner):
    return [{"id": p.pk, "kind": p.kind, "value": p.value, "label": p.label, "is_primary": p.is_primary,
             "preferred_channel": p.preferred_channel} for p in ContactPoint.objects.filter(partner=partner)]


def test_name_is_first_and_last_trimmed_to_the_label():
    assert contact_name("Ada", "Lovelace") == "Ada Lovelace"
    assert contact_name(None, " Lovelace ") == "Lovelace"
    assert contact_name("A" * 40, "B" * 80) == "A" * 40 + " " + "B" * 9  # the label's 50 characters


def test_pull_creates_three_points_then_a_second_pull_writes_nothing(sf_connection, fake_sf):
    account, partner = _account(fake_sf, sf_connection)
    other, kept = _account(fake_sf, sf_connection, name="Has an email")
    ContactPointFactory(partner=kept, kind="email", value="office@kept.example.com", is_primary=True)
    contact = fake_sf.put("Contact", AccountId=account, FirstName="Ada", LastName="Lovelace",
                          Email="ada@example.com", Phone="+44 20 7946 0000", MobilePhone="+44 7700 900000")
    fake_sf.put("Contact", AccountId=other, LastName="Babbage", Email="charles@example.com")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.errors, run.received, run.created) == ("ok", 0, 2, 2)
    points = _points(partner)
    assert {k: (p.value, p.label, p.is_primary) for k, p in points.items()} == {
        "email": ("ada@example.com", "Ada Lovelace", True), "phone": ("+44 20 7946 0000", "Ada Lovelace", True),
        "mobile": ("+44 7700 900000", "Ada Lovelace", True)}
    # A partner with a primary email already: the pulled one is not primary.
    assert ContactPoint.objects.get(value="charles@example.com").is_primary is False
    ref = ExternalRef.objects.get(object=SyncObject.CONTACT, local_id=points["email"].pk)
    assert (ref.remote_id, ref.parent_id) == (f"{contact}.Email", partner.pk)
    partner.refresh_from_db()
    assert "ada@example.com" in partner.search_document and "447700900000" in partner.search_document
    assert _contact_events() == 2  # one partner.updated (changed: contacts) per partner
    # Nothing changed since: nothing read; read everything again: skipped, nothing written, no event.
    assert connection_pull(connection_id=sf_connection.pk).run.received == 0
    before = (list(ContactPoint.objects.values_list("pk", "value", "label", "is_primary").order_by("pk")),
              dict(ExternalRef.objects.filter(object="contact").values_list("pk", "updated_at")), Event.objects.count())
    connection_resync(connection=sf_connection)
    again = connection_pull(connection_id=sf_connection.pk).run
    assert (again.received, again.created, again.updated, again.skipped, again.errors) == (4, 0, 0, 4, 0)
    assert (list(ContactPoint.objects.values_list("pk", "value", "label", "is_primary").order_by("pk")),
            dict(ExternalRef.objects.filter(object="contact").values_list("pk", "updated_at")), Event.objects.count()) == before


def test_crm_changes_emptied_channel_and_deletion(sf_connection, fake_sf):
    account, partner = _account(fake_sf, sf_connection)
    contact = fake_sf.put("Contact", AccountId=account, FirstName="Ada", LastName="Lovelace",
                          Email="ada@example.com", Phone="+44 20 7946 0000")
    connection_pull(connection_id=sf_connection.pk)
    fake_sf.put("Contact", contact, Email="ada@new.example.com", LastName="King")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.received, run.updated, run.created) == (1, 1, 0)
    points = _points(partner)
    assert (points["email"].value, points["email"].label, points["phone"].label) == (
        "ada@new.example.com", "Ada King", "Ada King")
    # The phone emptied in the CRM: that point is deleted here, its ref kept (deleted remotely).
    phone = points["phone"]
    fake_sf.put("Contact", contact, Phone=None)
    connection_pull(connection_id=sf_connection.pk)
    assert set(_points(partner)) == {"email"}
    assert ExternalRef.objects.get(remote_id=f"{contact}.Phone").deleted_remotely
    # Filled again: a new point.
    fake_sf.put("Contact", contact, Phone="+44 20 7946 0001")
    connection_pull(connection_id=sf_connection.pk)
    assert _points(partner)["phone"].value == "+44 20 7946 0001" and _points(partner)["phone"].pk != phone.pk
    # The Contact deleted: its points go, the partner stays (active).
    fake_sf.delete("Contact", contact)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.updated) == ("ok", 1)
    assert not ContactPoint.objects.filter(partner=partner).exists()
    partner.refresh_from_db()
    assert partner.status == Partner.Status.ACTIVE
    assert ExternalRef.objects.filter(object="contact", deleted_remotely=True).count() == 2


def test_unknown_account_and_invalid_value_are_logged_and_the_rest_applied(sf_connection, fake_sf):
    account, partner = _account(fake_sf, sf_connection)
    stranger = fake_sf.put("Contact", AccountId="001000000000999", LastName="Nobody", Email="no@example.com")
    bad = fake_sf.put("Contact", AccountId=account, LastName="Typo", Email="not an email", Phone="+1 555 0100")
    fake_sf.put("Contact", AccountId=account, LastName="Fine", Email="fine@example.com")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.received, run.errors, run.created) == ("ok", 3, 2, 2)
    logs = {log.record: log for log in SyncLog.objects.filter(run=run)}
    assert logs[stranger].error_code == "UNKNOWN_REFERENCE" and "001000000000999" in logs[stranger].message
    assert logs[bad].error_code == "INVALID_VALUE" and logs[bad].message.startswith("Email:")
    assert set(ContactPoint.objects.filter(partner=partner).values_list("value", flat=True)) == {
        "+1 555 0100", "fine@example.com"}
    assert not ExternalRef.objects.filter(remote_id=f"{bad}.Email").exists()


def test_push_creates_updates_and_clears_contacts_without_echo(sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    account, partner = _account(fake_sf, sf_connection)
    crm_push_pending()  # the pull's partner.created: the account gets our code
    connection_pull(connection_id=sf_connection.pk)  # and comes back once (an echo: nothing written)
    # Added in PRM as the partner form does: an email and a phone of one person, a WhatsApp (not synced).
    _contacts_as_ui(partner, [{"kind": "email", "value": "grace@example.com", "label": "Grace Hopper"},
                              {"kind": "phone", "value": "+1 555 0199", "label": "Grace Hopper"},
                              {"kind": "whatsapp", "value": "+1 555 0198", "label": "Grace Hopper"}])
    assert crm_push_pending() == 1
    points = _points(partner)
    remote = _contact(fake_sf, points["email"])
    assert (remote["AccountId"], remote["LastName"], remote["Email"], remote["Phone"]) == (
        account, "Grace Hopper", "grace@example.com", "+1 555 0199")
    assert len(fake_sf.records["Contact"]) == 1  # one person, one Contact
    assert ExternalRef.objects.get(local_id=points["phone"].pk, object="contact").remote_id == f"{remote['Id']}.Phone"
    # No echo: the pull reads our Contact back and writes nothing.
    events, run = Event.objects.count(), connection_pull(connection_id=sf_connection.pk).run
    assert (run.received, run.created, run.updated, run.skipped) == (1, 0, 0, 1)
    assert Event.objects.count() == events
    # A value changed in PRM: that field is updated on the Contact's Id.
    rows = _rows(partner)
    next(r for r in rows if r["kind"] == "email")["value"] = "grace@navy.example.com"
    _contacts_as_ui(partner, rows)
    calls = len(fake_sf.calls)
    crm_push_pending()
    assert fake_sf.records["Contact"][remote["Id"]]["Email"] == "grace@navy.example.com"
    assert any(path.endswith("composite/sobjects/Contact/Id") for _m, path in fake_sf.calls[calls:])
    # The phone deleted in PRM: its field is cleared on the Contact, the ref removed.
    _contacts_as_ui(partner, [r for r in _rows(partner) if r["kind"] != "phone"])
    crm_push_pending()
    assert fake_sf.records["Contact"][remote["Id"]]["Phone"] is None
    assert not ExternalRef.objects.filter(remote_id=f"{remote['Id']}.Phone").exists()
    # A pull after our pushes: nothing written back.
    events, run = Event.objects.count(), connection_pull(connection_id=sf_connection.pk).run
    assert (run.received, run.created, run.updated, run.errors) == (1, 0, 0, 0)
    assert Event.objects.count() == events
    assert _points(partner)["email"].value == "grace@navy.example.com"
    # A partner change that is not about its contacts: the account is pushed, no Contact is sent.
    calls = len(fake_sf.calls)
    partner_update(partner=partner, by=None, name="Acme Renamed")
    assert crm_push_pending() == 1
    sent = [path for _m, path in fake_sf.calls[calls:] if "composite" in path]
    assert sent and not any("Contact" in path for path in sent)


def test_a_new_point_fills_the_free_field_of_its_person_and_a_partner_without_account_waits(
        sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    account, partner = _account(fake_sf, sf_connection)
    contact = fake_sf.put("Contact", AccountId=account, FirstName="Ada", LastName="Lovelace", Email="ada@example.com")
    connection_pull(connection_id=sf_connection.pk)
    crm_push_pending()
    _contacts_as_ui(partner, _rows(partner) + [{"kind": "mobile", "value": "+44 7700 900001", "label": "Ada Lovelace"}])
    crm_push_pending()
    assert len(fake_sf.records["Contact"]) == 1
    assert fake_sf.records["Contact"][contact]["MobilePhone"] == "+44 7700 900001"
    # A partner never synced: its contacts wait for its account (logged), nothing is sent.
    lonely = ContactPointFactory(kind="email", value="x@example.com").partner
    run = connection_push(connection_id=sf_connection.pk, object="contact", local_ids=[lonely.pk])
    assert run.errors == 1 and SyncLog.objects.get(run=run).error_code == "PARTNER_NOT_SYNCED"
    assert len(fake_sf.records["Contact"]) == 1


@pytest.fixture
def admin_client(db, client):
    client.force_login(manager_user(username="admin1", is_superuser=True))
    return client


def _page(accounts, count, start=0):
    now = timezone.now().strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return [{"Id": f"003{start + i:015d}", "LastModifiedDate": now, "IsDeleted": False,
             "AccountId": accounts[i % len(accounts)], "FirstName": "P", "LastName": f"N{i}",
             "Email": f"p{start + i}@example.com", "Phone": f"+1 555 {start + i:04d}", "MobilePhone": None}
            for i in range(count)]


def test_queries_per_page_do_not_grow_with_its_records(sf_connection):
    partners = PartnerFactory.create_batch(200)
    accounts = [f"001{i:015d}" for i in range(200)]
    ExternalRef.objects.bulk_create([
        ExternalRef(connection=sf_connection, object="account", local_id=p.pk, remote_id=a, synced={})
        for p, a in zip(partners, accounts, strict=True)])
    ctx = Context(connection=sf_connection, run=None, spec=CONTACT, mappings=[])
    pull_page_commit(ctx, _page(accounts, 1, 5000), Counts())  # the cursor exists: the pages below update it
    counted = []
    for start, size in ((0, 10), (1000, 200)):
        with CaptureQueriesContext(db) as queries:
            pull_page_commit(ctx, _page(accounts, size, start), Counts())
        counted.append(len(queries))
    assert ContactPoint.objects.count() == 2 + 2 * 210
    assert counted[0] == counted[1], counted
    # A page changing every record (values and a deletion) costs the same, whatever its size.
    changed = []
    for start, size in ((0, 10), (1000, 200)):
        page = _page(accounts, size, start)
        for record in page:
            record["Email"], record["Phone"] = f"q{record['Id']}@example.com", None
        with CaptureQueriesContext(db) as queries:
            pull_page_commit(ctx, page, Counts())
        changed.append(len(queries))
    assert changed[0] == changed[1], changed
    assert ContactPoint.objects.count() == 2 + 210


def test_push_queries_do_not_grow_with_the_partners(sf_connection, fake_sf):
    partners = PartnerFactory.create_batch(210)
    ExternalRef.objects.bulk_create([
        ExternalRef(connection=sf_connection, object="account", local_id=p.pk, remote_id=f"001{i:015d}", synced={})
        for i, p in enumerate(partners)])
    for p in partners:
        ContactPoint.objects.create(partner=p, kind="email", value=f"x{p.pk}@example.com", label="X", is_primary=True)
    connection_push(connection_id=sf_connection.pk, object="contact", local_ids=[])  # describe cached
    counted = []
    for chunk in (partners[:10], partners[10:]):
        with CaptureQueriesContext(db) as queries:
            run = connection_push(connection_id=sf_connection.pk, object="contact", local_ids=[p.pk for p in chunk])
        assert (run.created, run.errors) == (len(chunk), 0)
        counted.append(len(queries))
    assert counted[0] == counted[1], counted
    assert len(fake_sf.records["Contact"]) == 210


def test_settings_pages_show_contact_logs_and_refuse_contact_mappings(admin_client, sf_connection, fake_sf):
    fake_sf.put("Contact", AccountId="001000000000999", LastName="Nobody", Email="no@example.com")
    connection_pull(connection_id=sf_connection.pk)
    page = admin_client.get(reverse("crm:detail", args=[sf_connection.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "UNKNOWN_REFERENCE" in html and "Contact points ↔ Contact" in html
    assert reverse("crm:mapping_add", args=[sf_connection.pk, "contact"]) not in html  # fixed columns
    assert admin_client.get(reverse("crm:mapping_add", args=[sf_connection.pk, "contact"])).status_code == 404
    with pytest.raises(ValidationError):
        mapping_save(mapping=FieldMapping(connection=sf_connection, object="contact", local_field="value",
                                          remote_field="Email"))


def test_a_contact_moved_to_another_account_moves_its_points(sf_connection, fake_sf):
    account, partner = _account(fake_sf, sf_connection)
    other, new_home = _account(fake_sf, sf_connection, name="New home")
    contact = fake_sf.put("Contact", AccountId=account, LastName="Mover", Email="mover@example.com")
    connection_pull(connection_id=sf_connection.pk)
    fake_sf.put("Contact", contact, AccountId=other)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.errors, run.created) == (0, 1)
    assert not ContactPoint.objects.filter(partner=partner).exists()
    point = ContactPoint.objects.get(partner=new_home)
    assert (point.value, point.is_primary) == ("mover@example.com", True)
    ref = ExternalRef.objects.get(remote_id=f"{contact}.Email")
    assert (ref.local_id, ref.parent_id, ref.deleted_remotely) == (point.pk, new_home.pk, False)


def test_a_kind_changed_here_moves_the_value_to_the_other_field(sf_connection, fake_sf, settings):
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    account, partner = _account(fake_sf, sf_connection)
    contact = fake_sf.put("Contact", AccountId=account, LastName="Switch", Email="s@example.com", Phone="+1 555 0111")
    connection_pull(connection_id=sf_connection.pk)
    crm_push_pending()
    rows = _rows(partner)
    next(r for r in rows if r["kind"] == "phone")["kind"] = "mobile"
    _contacts_as_ui(partner, rows)
    crm_push_pending()
    remote = fake_sf.records["Contact"][contact]
    assert (remote["Phone"], remote["MobilePhone"], remote["Email"]) == (None, "+1 555 0111", "s@example.com")
    mobile = _points(partner)["mobile"]
    assert ExternalRef.objects.get(object="contact", local_id=mobile.pk).remote_id == f"{contact}.MobilePhone"
    assert not ExternalRef.objects.filter(remote_id=f"{contact}.Phone").exists()
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.created, run.updated, run.errors) == (0, 0, 0)
    assert set(_points(partner)) == {"email", "mobile"}


def test_a_channel_prm_has_already_is_linked_not_duplicated(sf_connection, fake_sf, settings):
    """The partner's email was in PRM before the Contact was synced (or our push created the Contact in a transaction
    that rolled back): the pull links that point instead of making a second one."""
    account, partner = _account(fake_sf, sf_connection)
    office = ContactPointFactory(partner=partner, kind="email", value="Ada@Example.com", label="Office", is_primary=True)
    contact = fake_sf.put("Contact", AccountId=account, FirstName="Ada", LastName="Lovelace", Email="ada@example.com",
                          Phone="+44 20 7946 0000")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.errors, run.created) == (0, 1)
    points = _points(partner)
    assert len(points) == 2 and points["email"].pk == office.pk and points["email"].label == "Ada Lovelace"
    assert ExternalRef.objects.get(object=SyncObject.CONTACT, remote_id=f"{contact}.Email").local_id == office.pk
    settings.OUTBOX_CONSUMERS = {"crm": "integrations.tasks.crm_push"}
    before = len(fake_sf.calls)
    crm_push_pending()  # the pull's partner.updated: nothing to send back
    assert not any("Contact" in path for _m, path in fake_sf.calls[before:])
    assert len(fake_sf.records["Contact"]) == 1
