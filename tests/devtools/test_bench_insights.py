"""Smoke test of ``manage.py bench --only insights`` on a tiny dataset (the real run is at 100k partners)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from insights.models import Insight


# Transactional: the split run's parts run in threads with their own connections, which see committed rows only.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_insights_on_a_tiny_dataset():
    call_command("seed_demo", "--partners", "30", stdout=StringIO())
    before = set(Insight.objects.values_list("fingerprint", "state"))
    out, err = StringIO(), StringIO()
    call_command("bench", "--partners", "30", "--repeat", "1", "--only", "insights", stdout=out, stderr=err)
    table = [line for line in out.getvalue().splitlines() if line.startswith("| insights:")]
    # first run, re-run, next night (split), the first run as one part, one partner
    assert len(table) == 5, out.getvalue()
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1].endswith((" s", " ms")), line
        # met or MISSED: speed targets are the 100k-partner bench's to judge, not a test's (a loaded machine is slow)
        assert cells[7] in ("met", "MISSED"), line
    assert "parts at once" in table[0] and "engagement_due" in table[0]
    assert set(Insight.objects.values_list("fingerprint", "state")) == before  # put back as found
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_saved_insights')")
        assert cursor.fetchone()[0] is None
