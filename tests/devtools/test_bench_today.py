"""Smoke test of ``manage.py bench --only today`` on a tiny dataset (the real run is `make bench` at 100k partners)."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_bench_today_on_a_tiny_dataset():
    out, err = StringIO(), StringIO()
    call_command("bench", "--partners", "6", "--repeat", "1", "--only", "today", stdout=out, stderr=err)
    table = [line for line in out.getvalue().splitlines() if line.startswith("| today:")]
    assert len(table) == 3, out.getvalue()  # a rep with 500 partners (as many as there are here), manager, ?rep=
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1].endswith(" ms"), line  # the page answered 200
        assert 0 < int(cells[3].split()[0]) <= 12, line  # the query budget, even on a tiny dataset
