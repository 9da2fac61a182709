"""Smoke test of ``manage.py bench --only portal`` on a tiny dataset (the real run is at 100k partners, 500k
registrations)."""

from io import StringIO

import pytest
from django.core.management import call_command

from devtools import demo, demo_portal


@pytest.mark.django_db
def test_bench_portal_on_a_tiny_dataset():
    out, err = StringIO(), StringIO()
    call_command("bench", "--partners", "6", "--repeat", "1", "--only", "portal", stdout=out, stderr=err)
    table = [line for line in out.getvalue().splitlines() if line.startswith("| portal:")]
    names = [line.split("|")[1] for line in table]
    assert len([n for n in names if "home" in n]) == 1, out.getvalue()
    assert len([n for n in names if "partner deals" in n]) == 3
    assert len([n for n in names if "staff" in n]) == 6  # manager and rep: waiting, all, a deep page
    assert len([n for n in names if "conflict check" in n]) >= 3
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1].endswith(" ms"), line  # answered (a page: 200)
        if "conflict" not in cells[0]:
            limit = 12 if "home" in cells[0] else 10
            assert 0 < int(cells[3].split()[0]) <= limit, line  # the query budget, even on a tiny dataset


@pytest.mark.django_db
def test_bench_portal_says_when_the_portal_data_is_missing():
    demo.demo_seed(partners=3, seed=1)
    demo_portal.portal_clear()
    out = StringIO()
    call_command("bench", "--partners", "3", "--repeat", "1", "--only", "portal", stdout=out, stderr=StringIO())
    assert "seed_demo --portal-only" in out.getvalue()
