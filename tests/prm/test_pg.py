"""prm.pg's INSERT helpers, against the real database: what bulk_create would have written, ids in order, upserts."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from integrations.models import Connection, ExternalRef
from leads.models import Lead, LeadStageChange
from prm import pg
from tests import factories

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_insert_objects_writes_what_bulk_create_would_and_sets_the_ids_in_order():
    partner = factories.PartnerFactory()
    leads = [Lead(name=f"Lead {n}", company="Acme 'quoted' \\ co", email=f"l{n}@example.com", partner=partner,
                  stage=Lead.Stage.QUALIFIED, expected_value=Decimal("12.50"), created_at=WHEN, last_touched_at=WHEN)
             for n in range(2_500)]  # more than one statement of 1,000
    pg.insert_objects(leads)
    assert [lead.pk for lead in leads] == sorted(lead.pk for lead in leads)
    assert not leads[0]._state.adding
    stored = Lead.objects.get(pk=leads[1_234].pk)
    assert (stored.name, stored.company, stored.partner_id, stored.stage, stored.expected_value, stored.created_at) == (
        "Lead 1234", "Acme 'quoted' \\ co", partner.pk, "qualified", Decimal("12.50"), WHEN)
    assert stored.updated_at is not None  # the field's pre_save (auto_now) applied, as bulk_create does
    assert pg.insert_objects([]) is None


def test_insert_values_returns_nothing_without_returning_and_refuses_a_broken_row_whole():
    lead = factories.LeadFactory()
    columns = ["lead_id", "from_stage", "to_stage", "changed_by_id", "changed_at"]
    assert pg.insert_values(LeadStageChange, columns, [(lead.pk, "", "new", None, WHEN)]) == []
    assert pg.insert_values(LeadStageChange, columns, []) == []
    with pytest.raises(IntegrityError), transaction.atomic():  # a row without its stage: the statement fails whole
        pg.insert_values(LeadStageChange, columns, [(lead.pk, "new", "won", None, WHEN), (lead.pk, "", None, None, WHEN)])
    assert list(LeadStageChange.objects.filter(lead=lead).values_list("to_stage", flat=True)) == ["new"]


def test_insert_values_upserts_on_the_conflict_columns_and_writes_json():
    connection = Connection.objects.create(name="pg test", instance_url="https://example.my.salesforce.com",
                                           credentials_encrypted="-")
    columns = ["connection_id", "object", "local_id", "remote_id", "synced", "values_hash", "deleted_remotely",
               "updated_at"]
    key, update = ["connection_id", "object", "remote_id"], ["local_id", "synced", "updated_at"]
    pg.insert_values(ExternalRef, columns, [(connection.pk, "lead", 1, "00Q1", {"name": "ab"}, "", False, WHEN)],
                     conflict=key, update=update)
    pg.insert_values(ExternalRef, columns, [(connection.pk, "lead", 2, "00Q1", {"name": "cd"}, "h", True, WHEN)],
                     conflict=key, update=update)
    ref = ExternalRef.objects.get(connection=connection, remote_id="00Q1")
    assert (ref.local_id, ref.synced, ref.values_hash, ref.deleted_remotely) == (2, {"name": "cd"}, "", False)
    ids = pg.insert_values(ExternalRef, columns, [(connection.pk, "lead", 3, "00Q1", {}, "", False, WHEN)],
                           conflict=key, returning="id")
    assert ids == []  # no update columns: ON CONFLICT DO NOTHING, so the conflicting row is neither written nor returned
    assert ExternalRef.objects.get(pk=ref.pk).local_id == 2
    ids = pg.insert_values(ExternalRef, columns, [(connection.pk, "lead", 4, "00Q2", [], "", False, WHEN)],
                           conflict=key, returning="id")
    assert ExternalRef.objects.get(pk=ids[0]).synced == []
