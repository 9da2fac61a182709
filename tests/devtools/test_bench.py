"""Smoke test of ``manage.py bench`` on a tiny dataset, so the benchmark keeps working (the real run is `make bench`)."""

import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_bench_list_and_detail_on_a_tiny_dataset():
    out, err = StringIO(), StringIO()
    # Empty test database: the command builds 6 partners with seed_demo's functions, then measures.
    call_command("bench", "--partners", "6", "--repeat", "1", "--only", "list,detail", stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    counts = [line for line in lines if line.startswith("| list: manager:") and "count" in line]
    assert len(counts) == 2 and all(" ms |" in line for line in counts)  # the count line's SQL, unfiltered and search
    table = [line for line in lines if line.startswith(("| list:", "| detail:")) and line not in counts]
    assert len(table) == 12  # 5 list pages × (manager, rep) + the partner page × (manager, rep)
    for line in table:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        median, queries = cells[1], cells[3]
        assert median.endswith(" ms"), line  # every page answered 200
        assert 0 < int(queries.split()[0]) <= 30, line  # the query count was captured (and is in the right ballpark)
    assert "dataset: 6 partners" in out.getvalue()


# Transactional: the gunicorn the load section starts reads the dataset and the session from the database, so they
# must be committed (serialized_rollback restores the data migrations' rows afterwards, see tests/conftest.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_load_measures_the_logged_in_pages_not_a_login_redirect():
    if shutil.which("wrk") is None:
        pytest.fail("the load benchmark needs wrk: run `make wrk` (make test installs it)")
    out, err = StringIO(), StringIO()
    call_command("bench", "--partners", "6", "--only", "load", "--duration", "1", stdout=out, stderr=err)

    rows = {}
    for line in out.getvalue().splitlines():
        if line.startswith("| load:"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0].split(":")[1].strip()] = cells
    assert set(rows) >= {"partner list (manager, page 1)", "/healthz (SELECT 1)"}, out.getvalue()
    assert any(name.startswith("partner list (rep ") for name in rows), out.getvalue()
    assert any(name.startswith("partner page (partner ") for name in rows), out.getvalue()
    for name, cells in rows.items():
        if name.startswith("ratio "):
            continue
        note = cells[-1]
        # Every response was checked by wrk_check.lua (status 200 + the page's marker; wrk follows no redirect): the
        # first version of this section counted the login page its session could not open as a success.
        assert ", 0 failed" in note and cells[7] != "MISSED", cells
        assert int(note.split(" passed")[0].rsplit(" ", 1)[1].replace(",", "")) > 0, cells
        assert " + PG " in cells[4], cells  # CPU per request of gunicorn + PostgreSQL's backends
    assert "HTTP 200 + '<h1>All partners</h1>' + 'class=\"cell-name\"'" in rows["partner list (manager, page 1)"][-1]


@pytest.mark.django_db
def test_bench_rejects_unknown_sections():
    with pytest.raises(CommandError, match="unknown section"):
        call_command("bench", "--partners", "1", "--only", "list,nope", stdout=StringIO(), stderr=StringIO())

