"""Smoke test of ``manage.py bench --only api`` on a tiny dataset (the real run is on 100k partners)."""

from io import StringIO

import pytest
from django.core.management import call_command

from api.models import ApiKey
from business.models import Achievement, Parameter, UploadBatch


@pytest.mark.django_db
def test_bench_api_on_a_tiny_dataset(monkeypatch):
    monkeypatch.setattr("devtools.bench_api.BULK_ROWS", 300)
    out, err = StringIO(), StringIO()
    call_command("bench", "--partners", "6", "--repeat", "1", "--only", "api", stdout=out, stderr=err)
    table = [line for line in out.getvalue().splitlines() if line.startswith("| api:")]
    pages = [line for line in table if "page" in line]
    for name in ("partners", "deals", "targets", "achievements"):
        assert any(f"| api: {name} (manager), first page" in line for line in pages), out.getvalue()
    for line in pages:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1].endswith(" ms"), line  # the page answered 200
        assert 0 < int(cells[3].split()[0]) <= 6, line  # the query budget, whatever the page
    bulk = next(line for line in table if "bulk upsert" in line)
    assert "300 rows" in bulk and "ratio" in bulk, bulk
    # Everything was rolled back: the keys, the bench's parameter, the upserted rows and their batches.
    assert not ApiKey.objects.exists() and not UploadBatch.objects.exists()
    assert not Parameter.objects.filter(code="bench_api_upload").exists()
    assert not Achievement.objects.filter(source="api").exists()
