"""Smoke test of ``manage.py bench`` on a tiny dataset, so the benchmark keeps working (the real run is `make bench`)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_bench_list_and_detail_on_a_tiny_dataset():
    out, err = StringIO(), StringIO()
    # Empty test database: the command builds 6 partners with seed_demo's functions, then measures.
    call_command("bench", "--partners", "6", "--repeat", "1", "--only", "list,detail", stdout=out, stderr=err)

    table = [line for line in out.getvalue().splitlines() if line.startswith("| list:") or line.startswith("| detail:")]
    assert len(table) == 12  # 5 list pages × (manager, rep) + the partner page × (manager, rep)
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        median, queries = cells[1], cells[3]
        assert median.endswith(" ms"), line  # every page answered 200
        assert 0 < int(queries.split()[0]) <= 30, line  # the query count was captured (and is in the right ballpark)
    assert "dataset: 6 partners" in out.getvalue()


@pytest.mark.django_db
def test_bench_rejects_unknown_sections():
    with pytest.raises(CommandError, match="unknown section"):
        call_command("bench", "--partners", "1", "--only", "list,nope", stdout=StringIO(), stderr=StringIO())

