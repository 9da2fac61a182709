"""Smoke test of ``manage.py bench --only crm`` on a tiny dataset (the real run: 100k partners, docs/benchmarks.md)."""

from io import StringIO

import pytest
from django.core.management import call_command

from devtools import demo
from leads.models import Customer, Lead
from partners.models import Partner
from service.models import Ticket


def _owners():
    return (list(Partner.objects.order_by("id").values_list("assigned_to", flat=True)),
            list(Lead.objects.order_by("id").values_list("assigned_to", flat=True)),
            list(Customer.objects.order_by("id").values_list("assigned_to", flat=True)),
            list(Ticket.objects.order_by("id").values_list("assignee", flat=True)))


@pytest.mark.django_db
def test_bench_crm_on_a_tiny_dataset():
    out, err = StringIO(), StringIO()
    demo.demo_seed(partners=6)  # what the command builds on an empty database (it reuses it here)
    before = _owners()
    call_command("bench", "--partners", "6", "--repeat", "1", "--only", "crm", stdout=out, stderr=err)

    table = [line for line in out.getvalue().splitlines() if line.startswith("| crm:")]
    # Per user (manager, then the rep): 5 leads lists, 3 customers lists, 3 tickets lists, a lead and a customer page.
    assert len(table) == 26, out.getvalue()
    assert sum(": manager: " in line for line in table) == 13
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name, median, queries = cells[0], cells[1], cells[3]
        assert median.endswith(" ms"), line  # the page answered 200
        budget = 20 if name.endswith(" page") else 10  # the budgets hold even on a tiny dataset
        assert 0 < int(queries.split()[0]) <= budget, line
    # The rep's 500 partners (here: all 6) and what follows them were reassigned only for the run.
    assert _owners() == before
