"""Smoke test of ``manage.py bench --only team`` on a tiny dataset (the real run is on 100k partners)."""

from io import StringIO

import pytest
from django.core.management import call_command

from insights.models import TeamAttainment


@pytest.mark.django_db
def test_bench_team_on_a_tiny_dataset():
    out, err = StringIO(), StringIO()
    call_command("bench", "--partners", "6", "--repeat", "1", "--only", "team", stdout=out, stderr=err)
    table = [line for line in out.getvalue().splitlines() if line.startswith("| team:")]
    assert len(table) == 3, out.getvalue()  # the nightly refresh, the manager, ?rep=
    for line in table[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1].endswith(" ms"), line  # the page answered 200
        assert 0 < int(cells[3].split()[0]) <= 15, line  # the query budget, even on a tiny dataset
    assert not TeamAttainment.objects.exists()  # the refresh was rolled back
