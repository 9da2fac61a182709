"""POST /api/v1/targets/bulk and /api/v1/achievements/bulk (api.figures → business.imports.import_period_rows): the
CSV import's validation, staging and upsert, all or nothing per request, errors as rows[<index>].<field>."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings

from business.imports import MAX_ERRORS, import_period_rows, import_period_values
from business.models import Achievement, Parameter, Target, UploadBatch
from tests import factories

pytestmark = pytest.mark.django_db
TARGETS = "/api/v1/targets/bulk"
ACHIEVEMENTS = "/api/v1/achievements/bulk"
SCOPES = ["figures:read", "figures:write"]


@pytest.fixture
def key(manager, make_key, bearer):
    _key, secret = make_key(manager, scopes=SCOPES)
    return bearer(secret)


def post(client, url, body, headers, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **headers, **extra)


def row(code, value="10", period="2026-01", parameter="revenue"):
    return {"partner_code": code, "parameter": parameter, "period": period, "value": value}


def fields(response):
    return [(error["field"], error["message"]) for error in response.json()["errors"]]


def test_achievements_created_updated_unchanged_with_api_provenance(client, manager, key):
    a, b = factories.PartnerFactory(code="A-1"), factories.PartnerFactory(code="B-2")
    computed = factories.AchievementFactory(partner=b, period_start=date(2026, 1, 1), value=Decimal("10"))
    rows = [row("A-1", 12.5), row("A-1", "7", period="2026-02"), row("B-2", "10")]
    response = post(client, ACHIEVEMENTS, {"rows": rows}, key)
    assert response.status_code == 200, response.content
    body = response.json()
    # B-2's January was computed: the API takes it over (source differs), as an upload does.
    assert body == {**body, "dry_run": False, "rows": 3, "created": 2, "updated": 1, "unchanged": 0}
    batch = UploadBatch.objects.get(pk=body["batch"])
    assert batch.source == "api" and batch.kind == "achievements" and batch.uploaded_by == manager
    assert (batch.rows_total, batch.rows_created, batch.rows_updated) == (3, 2, 1)
    assert "Test key" in batch.file_name
    saved = {(x.partner_id, x.period_start): x for x in Achievement.objects.all()}
    assert saved[(a.pk, date(2026, 1, 1))].value == Decimal("12.5")
    assert {x.source for x in saved.values()} == {"api"}
    assert saved[(b.pk, date(2026, 1, 1))].pk == computed.pk
    assert {x.upload_batch_id for x in saved.values()} == {batch.pk}
    again = post(client, ACHIEVEMENTS, {"rows": [row("A-1", "12.5"), row("A-1", "8", period="2026-02")]}, key).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 1)


def test_targets_record_who_set_them(client, manager, key):
    partner = factories.PartnerFactory(code="T-1")
    response = post(client, TARGETS, {"rows": [row("T-1", "1000", period="2026-04"),
                                               row("T-1", "5", parameter="leads_generated", period="2026-04-01")]}, key)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    targets = Target.objects.filter(partner=partner)
    assert {t.set_by_id for t in targets} == {manager.pk}
    assert UploadBatch.objects.get().source == "api"


def test_quarterly_period_and_listing_after_upsert(client, manager, key):
    Parameter.objects.create(code="nps", name="NPS", unit="%", frequency="quarterly")
    factories.PartnerFactory(code="Q-1")
    assert post(client, ACHIEVEMENTS, {"rows": [row("Q-1", "42", parameter="nps", period="2026-q3")]},
                key).status_code == 200
    listed = client.get("/api/v1/achievements/?parameter=nps&source=api", **key).json()["results"]
    assert [(r["period"], r["value"], r["source"]) for r in listed] == [("2026-Q3", "42.0000", "api")]


def test_every_error_names_its_row_and_field_and_nothing_is_written(client, key):
    factories.PartnerFactory(code="OK-1")
    rows = [
        row("OK-1", "1"),                                   # 0: fine
        row("NOPE", "1"),                                   # 1: unknown partner
        row("OK-1", "1", period="2026-13"),                 # 2: bad month
        row("OK-1", "-5", period="2026-03"),                # 3: negative
        row("OK-1", "1", parameter="mystery"),              # 4: unknown parameter
        row("OK-1", "2"),                                   # 5: duplicate of 0
        row("OK-1", "1.00001", period="2026-05"),           # 6: too many decimals
        {"partner_code": "OK-1", "parameter": "revenue", "period": "2026-06"},        # 7: no value
        {**row("OK-1", True, period="2026-07"), "colour": "red"},                     # 8: a boolean, an extra field
        row(["OK-1"], "1", period="2026-08"),               # 9: not a string
        "just text",                                        # 10: not an object
        row("OK-1", "1e400", period="2026-09"),             # 11: too large
    ]
    response = post(client, ACHIEVEMENTS, {"rows": rows}, key)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    found = dict(fields(response))
    # The shape is checked first: wrong types, missing and extra fields, not an object.
    assert set(found) == {"rows[7].value", "rows[8].value", "rows[8].colour", "rows[9].partner_code", "rows[10]"}
    assert "required" in found["rows[7].value"]
    shaped = [r for i, r in enumerate(rows) if i not in (7, 8, 9, 10)]
    response = post(client, ACHIEVEMENTS, {"rows": shaped}, key)
    assert response.status_code == 400
    found = dict(fields(response))
    assert set(found) == {"rows[1].partner_code", "rows[2].period", "rows[3].value", "rows[4].parameter",
                          "rows[5]", "rows[6].value", "rows[7].value"}
    assert "unknown partner code 'NOPE'" in found["rows[1].partner_code"]
    assert "negative" in found["rows[3].value"]
    assert found["rows[5]"].startswith("duplicate of rows[0]: rows[0] and rows[5]")
    assert "decimal places" in found["rows[6].value"] and "too large" in found["rows[7].value"]
    assert response.json()["detail"].startswith("7 errors: nothing was written.")
    assert not Achievement.objects.exists() and not UploadBatch.objects.exists()


def test_errors_are_capped_and_the_rest_counted(client, key):
    rows = [row("GHOST", "1", period=f"{2000 + i // 12}-{i % 12 + 1:02d}") for i in range(MAX_ERRORS + 250)]
    response = post(client, TARGETS, {"rows": rows}, key)
    assert response.status_code == 400
    body = response.json()
    assert len(body["errors"]) == MAX_ERRORS
    assert body["errors"][0]["field"] == "rows[0].partner_code"
    assert f"The first {MAX_ERRORS} are listed; 250 more are not." in body["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "rows"),
    ({"rows": []}, "rows"),
    ({"rows": "A-1,revenue,2026-01,1"}, "rows"),
    ([row("A-1")], "rows"),
    ({"rows": [row("A-1")], "extra": 1}, "extra"),
    ({"rows": [{}]}, "rows[0].partner_code"),
    ({"rows": [row(" ", " ", " ", " ")]}, "rows[0]"),
])
def test_bad_bodies(client, key, body, field):
    response = post(client, ACHIEVEMENTS, body, key)
    assert response.status_code == 400, response.content
    assert field in [f for f, _m in fields(response)]


def test_too_many_rows(client, key, monkeypatch):
    monkeypatch.setattr("api.figures.BULK_MAX_ROWS", 3)
    response = post(client, ACHIEVEMENTS, {"rows": [row("A", period=f"2026-0{m}") for m in range(1, 5)]}, key)
    assert response.status_code == 400
    assert fields(response) == [("rows", "Send 1 to 3 rows per request (this one has 4).")]


def test_not_json(client, key):
    response = client.post(ACHIEVEMENTS, "partner_code,parameter\nA,revenue", content_type="text/csv", **key)
    assert response.status_code == 415
    response = client.post(ACHIEVEMENTS, "{not json", content_type="application/json", **key)
    assert response.status_code == 400


def test_dry_run_counts_and_writes_nothing(client, key):
    factories.AchievementFactory(partner=factories.PartnerFactory(code="D-1"), period_start=date(2026, 1, 1),
                                 value=Decimal("10"), source="api")
    rows = [row("D-1", "10"), row("D-1", "11", period="2026-02")]
    response = post(client, f"{ACHIEVEMENTS}?dry_run=true", {"rows": rows}, key)
    assert response.status_code == 200
    assert response.json() == {"batch": None, "dry_run": True, "rows": 2, "created": 1, "updated": 0,
                               "unchanged": 1}
    assert Achievement.objects.count() == 1 and not UploadBatch.objects.exists()
    assert post(client, f"{ACHIEVEMENTS}?dry_run=maybe", {"rows": rows}, key).status_code == 400


def test_idempotency_key_replays_the_first_answer(client, key):
    factories.PartnerFactory(code="I-1")
    body = {"rows": [row("I-1", "3")]}
    first = post(client, ACHIEVEMENTS, body, key, HTTP_IDEMPOTENCY_KEY="bulk-1")
    replay = post(client, ACHIEVEMENTS, body, key, HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert first.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    assert UploadBatch.objects.count() == 1 and Achievement.objects.count() == 1
    other = post(client, ACHIEVEMENTS, {"rows": [row("I-1", "4")]}, key, HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert other.status_code == 422


def test_scope_and_permission(client, rep, manager, make_key, bearer):
    factories.PartnerFactory(code="S-1", assigned_to=rep)
    body = {"rows": [row("S-1")]}
    _k, read_only = make_key(manager, scopes=["figures:read"])
    assert post(client, ACHIEVEMENTS, body, bearer(read_only)).status_code == 403
    _k, partners = make_key(manager, scopes=["partners:read", "partners:write"], name="Partners")
    assert post(client, TARGETS, body, bearer(partners)).status_code == 403
    _k, reps = make_key(rep, scopes=SCOPES, name="Rep")  # a rep cannot upload figures, in the admin or here
    response = post(client, TARGETS, body, bearer(reps))
    assert response.status_code == 403 and "business.add_target" in response.json()["detail"]
    assert post(client, ACHIEVEMENTS, body, {}).status_code == 401
    assert not Target.objects.exists() and not Achievement.objects.exists()


@override_settings(API_BULK_MAX_BYTES=2000)
@pytest.mark.parametrize("idempotent", [False, True])
def test_a_body_over_the_limit_is_a_413_problem(client, key, idempotent):
    factories.PartnerFactory(code="L-1")
    rows = [row("L-1", "1", period=f"20{10 + m // 12}-{m % 12 + 1:02d}") for m in range(40)]
    extra = {"HTTP_IDEMPOTENCY_KEY": "big-1"} if idempotent else {}
    response = post(client, ACHIEVEMENTS, {"rows": rows}, key, **extra)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert "API_BULK_MAX_BYTES" in response.json()["detail"]
    assert post(client, ACHIEVEMENTS, {"rows": rows[:5]}, key, **extra).status_code == 200


def test_a_body_over_djangos_own_limit_is_admitted_with_an_idempotency_key(client, key, settings):
    """The other endpoints keep DATA_UPLOAD_MAX_MEMORY_SIZE; the bulk ones admit API_BULK_MAX_BYTES."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    factories.PartnerFactory(code="L-1")
    rows = [row("L-1", "1", period=f"20{10 + m // 12}-{m % 12 + 1:02d}") for m in range(60)]
    response = post(client, ACHIEVEMENTS, {"rows": rows}, key, HTTP_IDEMPOTENCY_KEY="big-2")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 60


def test_100000_rows_in_one_request_as_the_csv_import_does(client, manager, key):
    """The spec's size: 100,000 rows (about 8 MB of JSON) in one request, then the same rows as a CSV file through
    the import: the same counts."""
    partners = [factories.PartnerFactory(code=f"BULK-{n:04d}") for n in range(1000)]
    periods = [f"{2015 + m // 12}-{m % 12 + 1:02d}" for m in range(100)]
    rows = [row(p.code, f"{n}.25", period=period) for n, p in enumerate(partners) for period in periods]
    payload = json.dumps({"rows": rows})
    assert len(payload) > 8_000_000
    response = client.post(ACHIEVEMENTS, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="100k",
                           **key)
    assert response.status_code == 200, response.content[:500]
    assert response.json()["created"] == 100_000
    assert Achievement.objects.filter(source="api").count() == 100_000
    lines = ["partner_code,parameter,period,value", *(f"{r['partner_code']},revenue,{r['period']},{r['value']}"
                                                      for r in rows)]
    result = import_period_values(file=io.BytesIO("\n".join(lines).encode()), file_name="same.csv",
                                  kind="achievements", user=manager, dry_run=False)
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 100_000, 0)  # source api → upload


def test_rows_and_csv_get_the_same_checks_and_messages(manager):
    """business.imports.import_period_rows is import_period_values' pipeline: same messages, same columns (rows are
    numbered from 1 without a header; a CSV's data start at row 2)."""
    factories.PartnerFactory(code="C-1")
    cells = [("C-1", "revenue", "2026-01", "5"), ("NOPE", "revenue", "2026-01", "5"), ("C-1", "revenue", "2026-Q1", "5"),
             ("C-1", "revenue", "2026-02", "-1"), ("C-1", "nps", "2026-02", "1"), ("C-1", "revenue", "2026-03", "x")]
    csv = "partner_code,parameter,period,value\n" + "\n".join(",".join(c) for c in cells)
    from_file = import_period_values(file=io.BytesIO(csv.encode()), file_name="x.csv", kind="targets", user=manager,
                                     dry_run=True)
    from_rows = import_period_rows(rows=cells, kind="targets", label="test", user=manager, dry_run=True)
    assert [(e.row - 1, e.column, e.message) for e in from_file.errors] == [
        (e.row, e.column, e.message) for e in from_rows.errors]
    assert len(from_rows.errors) == 5
    assert (from_rows.created, from_rows.rows_total) == (from_file.created, from_file.rows_total) == (1, 6)
