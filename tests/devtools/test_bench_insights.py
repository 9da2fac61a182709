"""Smoke test of ``manage.py bench --only insights`` on a tiny dataset (the real run is at 100k partners)."""

from io import StringIO

import pytest
from django.core.management import call_command

from insights.models import Insight


@pytest.mark.django_db
def test_bench_insights_on_a_tiny_dataset():
    out, err = StringIO(), StringIO()
    call_command("bench", "--partners", "30", "--repeat", "1", "--only", "insights", stdout=out, stderr=err)
    table = [line for line in out.getvalue().splitlines() if line.startswith("| insights:")]
    assert len(table) == 4, out.getvalue()  # first run, re-run, next night, one partner
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1].endswith((" s", " ms")), line
        assert cells[7] == "met", line  # a tiny dataset is well within the targets
    assert "engagement_due" in table[0]
    assert not Insight.objects.exists()  # rolled back
