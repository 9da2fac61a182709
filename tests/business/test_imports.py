"""business.imports.import_period_values and ``manage.py import_achievements``: every rule with a small file."""

import io
import threading
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core import mail
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from business.imports import import_period_values, results, writing
from business.models import Achievement, Parameter, Target, UploadBatch
from partners.models import Partner
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "partner_code,parameter,period,value\n"


@pytest.fixture
def partners(db):
    return [factories.PartnerFactory(code=code, assigned_to=None) for code in ("P1", "P2", "P3")]


@pytest.fixture
def nps(db):
    """An uploaded, quarterly parameter."""
    return Parameter.objects.create(code="nps", name="NPS", unit="%", frequency="quarterly", source="uploaded")


def run(content, *, kind="achievements", dry_run=False, name="upload.csv", user=None, file_format=None):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return import_period_values(
        file=io.BytesIO(data), file_name=name, kind=kind, user=user, dry_run=dry_run, file_format=file_format
    )


def errors(result):
    return [str(e) for e in result.errors]


def values():
    return {
        (a.partner.code, a.parameter.code, a.period_start): a.value
        for a in Achievement.objects.select_related("partner", "parameter")
    }


GOOD = HEADER + "P1,revenue,2025-01,1200.5\nP2,revenue,2025-02,300\nP1,nps,2025-Q1,42.25\nP3,nps,2025-04-01,0\n"


# Writing ------------------------------------------------------------------------------------------------------------


def test_valid_file_creates_rows_with_provenance(partners, nps, manager):
    result = run(GOOD, user=manager, name="january.csv")

    assert result.ok, errors(result)
    assert (result.rows_total, result.created, result.updated, result.unchanged) == (4, 4, 0, 0)
    assert values() == {
        ("P1", "revenue", date(2025, 1, 1)): Decimal("1200.5"),
        ("P2", "revenue", date(2025, 2, 1)): Decimal("300"),
        ("P1", "nps", date(2025, 1, 1)): Decimal("42.25"),
        ("P3", "nps", date(2025, 4, 1)): Decimal("0"),
    }
    batch = UploadBatch.objects.get()
    assert batch == result.batch
    assert (batch.kind, batch.status, batch.uploaded_by, batch.file_name) == ("achievements", "applied", manager, "january.csv")
    assert (batch.rows_total, batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (4, 4, 0, 0)
    assert batch.created_at is not None
    assert set(Achievement.objects.values_list("source", "upload_batch_id")) == {("upload", batch.id)}


def test_reupload_changes_nothing(partners, nps):
    first = run(GOOD)
    before = list(Achievement.objects.values_list("id", "value", "upload_batch_id", "updated_at").order_by("id"))

    second = run(GOOD)

    assert (second.created, second.updated, second.unchanged) == (0, 0, 4)
    after = list(Achievement.objects.values_list("id", "value", "upload_batch_id", "updated_at").order_by("id"))
    assert after == before  # same rows, same provenance (the first batch), not even updated_at moved
    assert {row[2] for row in after} == {first.batch.id}
    assert second.batch.rows_unchanged == 4


def test_changed_value_updates_only_that_row(partners, nps):
    run(GOOD)
    result = run(GOOD.replace("P2,revenue,2025-02,300", "P2,revenue,2025-02,301"))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    assert values()[("P2", "revenue", date(2025, 2, 1))] == Decimal("301")
    assert Achievement.objects.get(partner__code="P2").upload_batch == result.batch


def test_upload_takes_over_a_computed_row_with_the_same_value(partners):
    parameter = factories.parameter("revenue")
    Achievement.objects.create(partner=partners[0], parameter=parameter, period_start=date(2025, 1, 1),
                               value=Decimal("10"), source="computed")

    result = run(HEADER + "P1,revenue,2025-01,10\n")

    assert (result.created, result.updated) == (0, 1)
    assert Achievement.objects.get().source == "upload"


def test_targets(partners, nps, manager):
    result = run(GOOD, kind="targets", user=manager)

    assert result.ok and result.created == 4
    assert Achievement.objects.count() == 0
    assert set(Target.objects.values_list("set_by", "upload_batch")) == {(manager.id, result.batch.id)}
    assert result.batch.kind == "targets"
    assert run(GOOD, kind="targets").unchanged == 4


def test_header_is_case_and_space_tolerant_and_any_order(partners):
    result = run(" Value ,PERIOD, parameter ,Partner_Code\n12,2025-03,revenue,P1\n")

    assert result.ok, errors(result)
    assert values() == {("P1", "revenue", date(2025, 3, 1)): Decimal("12")}


def test_blank_lines_are_skipped_but_rows_keep_their_file_numbers(partners):
    result = run(HEADER + "P1,revenue,2025-01,1\n\n,,,\nP9,revenue,2025-01,1\n")

    assert result.rows_total == 2
    assert errors(result) == ["Row 5, column partner_code: unknown partner code 'P9'"]


def test_bom_file(partners):
    result = run(b"\xef\xbb\xbf" + (HEADER + "P1,revenue,2025-01,7\n").encode())

    assert result.ok, errors(result)
    assert values() == {("P1", "revenue", date(2025, 1, 1)): Decimal("7")}


def test_crlf_and_quoted_cells(partners):
    result = run(b'partner_code,parameter,period,value\r\n"P1","revenue","2025-01","7.5"\r\n')

    assert result.ok, errors(result)


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_file(partners, nps):
    data = xlsx_bytes([
        ["partner_code", "parameter", "period", "value"],
        ["P1", "revenue", "2025-01", 0.1],  # a float cell: stored exactly as 0.1
        ["P2", "revenue", date(2025, 2, 1), 1200],  # a date cell
        ["P3", "nps", "2025-Q2", "12.3456"],
    ])

    result = run(data, name="upload.xlsx")

    assert result.ok, errors(result)
    assert values() == {
        ("P1", "revenue", date(2025, 1, 1)): Decimal("0.1"),
        ("P2", "revenue", date(2025, 2, 1)): Decimal("1200"),
        ("P3", "nps", date(2025, 4, 1)): Decimal("12.3456"),
    }


def test_xlsx_errors_name_rows_and_columns(partners):
    data = xlsx_bytes([["partner_code", "parameter", "period", "value"], ["P1", "revenue", "2025-01", -1]])

    result = run(data, name="upload.xlsx")

    assert errors(result) == ["Row 2, column value: '-1' is negative; values must be 0 or more"]


def test_not_an_xlsx_file(partners):
    result = run(GOOD, name="upload.xlsx")

    assert not result.ok
    assert "not a valid XLSX workbook" in errors(result)[0]


# Validation: one small bad file per rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("P9,revenue,2025-01,1", "Row 2, column partner_code: unknown partner code 'P9'"),
        (",revenue,2025-01,1", "Row 2, column partner_code: a partner code is required"),
        ("P1,bogus,2025-01,1", "Row 2, column parameter: unknown parameter 'bogus'"),
        ("P1,revenue,Jan 2025,1", "Row 2, column period: 'Jan 2025' is not a period"),
        ("P1,revenue,2025-13,1", "Row 2, column period: '2025-13' has no month 13"),
        ("P1,revenue,2025-Q1,1", "Row 2, column period: '2025-Q1' is a quarter but the parameter is monthly"),
        ("P1,nps,2025-02,1", "Row 2, column period: '2025-02' is a month but the parameter is quarterly"),
        ("P1,nps,2025-02-01,1", "Row 2, column period: '2025-02-01' is not the first day of a quarter"),
        ("P1,revenue,2025-01-15,1", "Row 2, column period: '2025-01-15' is not the first day of a month"),
        ("P1,revenue,,1", "Row 2, column period: a period is required"),
        ("P1,revenue,2025-01,abc", "Row 2, column value: 'abc' is not a number"),
        ('P1,revenue,2025-01,"1,5"', "Row 2, column value: '1,5' is not a number"),
        ("P1,revenue,2025-01,NaN", "Row 2, column value: 'NaN' is not a number"),
        ("P1,revenue,2025-01,Infinity", "Row 2, column value: 'Infinity' is not a number"),
        ("P1,revenue,2025-01,", "Row 2, column value: a value is required"),
        ("P1,revenue,2025-01,-0.5", "Row 2, column value: '-0.5' is negative"),
        ("P1,revenue,2025-01,100000000000000", "Row 2, column value: '100000000000000' is too large"),
        ("P1,revenue,2025-01,1e20", "Row 2, column value: '1e20' is too large"),
        ("P1,revenue,2025-01,1.23456", "Row 2, column value: '1.23456' has more than 4 decimal places"),
        ("P1,revenue,2025-01,1,extra", "Row 2: the row has 5 cells but the header has 4"),
    ],
)
def test_bad_row(partners, nps, line, expected):
    result = run(HEADER + line + "\n")

    assert not result.ok
    assert errors(result)[0].startswith(expected), errors(result)
    assert Achievement.objects.count() == 0
    assert UploadBatch.objects.get().status == "failed"


def test_values_are_exact_decimals(partners):
    # numeric(18, 4) keeps the value exactly, up to the largest one.
    text = "99999999999999.9999"
    result = run(HEADER + f"P1,revenue,2025-01,{text}\n")

    assert result.ok, errors(result)
    assert Achievement.objects.get().value == Decimal(text)


def test_duplicate_key_names_both_rows(partners):
    result = run(HEADER + "P1,revenue,2025-01,1\nP2,revenue,2025-01,1\nP1,revenue,2025-01-01,2\n")

    assert errors(result) == [
        "Row 4, column partner_code, parameter, period: duplicate of row 2: rows 2 and 4 have the same partner, "
        "parameter and period"
    ]
    assert Achievement.objects.count() == 0


def test_every_error_of_a_row_is_reported(partners):
    result = run(HEADER + "P9,revenue,2025-1,-1\n")

    assert errors(result) == [
        "Row 2, column partner_code: unknown partner code 'P9'",
        "Row 2, column period: '2025-1' is not a period (use YYYY-MM, YYYY-Qn or the period's first day YYYY-MM-DD)",
        "Row 2, column value: '-1' is negative; values must be 0 or more",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("partner_code,parameter,value", "Row 1, column period: the header must be exactly partner_code,parameter,"
                                         "period,value; missing column(s): period."),
        ("partner_code,parameter,period,value,comment", "Row 1, column comment: the header must be exactly "
                                                        "partner_code,parameter,period,value; unexpected column(s): comment."),
        ("partner,parameter,period,value", "Row 1, column partner_code, partner: the header must be exactly "
                                           "partner_code,parameter,period,value; missing column(s): partner_code; "
                                           "unexpected column(s): partner."),
        ("partner_code,parameter,period,value,value", "Row 1, column value: the header must be exactly "
                                                      "partner_code,parameter,period,value; column(s) given twice: value."),
    ],
)
def test_bad_header(partners, header, expected):
    result = run(header + "\nP1,revenue,2025-01,1\n")

    assert errors(result) == [expected]
    assert Achievement.objects.count() == 0


def test_empty_file(partners):
    assert errors(run(b"")) == ["The file is empty."]


def test_non_utf8_file_names_row_and_byte(partners):
    data = (HEADER + "P1,revenue,2025-01,1\n").encode() + "Pé,revenue,2025-01,1\n".encode("latin-1")

    result = run(data)

    assert not result.ok
    offset = len(HEADER) + len("P1,revenue,2025-01,1\n") + 1
    assert errors(result) == [
        f"Row 3, column partner_code: the file is not UTF-8: byte 0xE9 at byte offset {offset} cannot be decoded. "
        'Save the file as "CSV UTF-8" and upload it again.'
    ]
    assert Achievement.objects.count() == 0


def test_oversize_file_is_refused_before_parsing(partners, settings, django_assert_num_queries):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    data = (HEADER + "P1,revenue,2025-01,1\n" * 60_000).encode()

    with django_assert_num_queries(0):
        result = run(data, dry_run=True)

    assert errors(result) == ["The file is 1.2 MB; the limit is 1.0 MB (setting IMPORT_MAX_BYTES)."]


def test_errors_are_capped_but_counted(partners, monkeypatch):
    monkeypatch.setattr(results, "MAX_ERRORS", 5)

    result = run(HEADER + "P9,revenue,2025-01,1\n" * 20)

    assert result.error_count == 20
    assert len(result.errors) == 5


# All or nothing -----------------------------------------------------------------------------------------------------


def test_an_error_on_the_last_row_leaves_the_table_as_it_was(partners, nps):
    run(GOOD)
    before = list(Achievement.objects.values_list("id", "value", "upload_batch_id", "updated_at").order_by("id"))

    result = run(HEADER + "P1,revenue,2025-01,99\nP2,revenue,2025-09,1\nP3,revenue,2025-01,oops\n")

    assert errors(result) == ["Row 4, column value: 'oops' is not a number (use digits and a decimal point, e.g. 1234.5)"]
    assert list(Achievement.objects.values_list("id", "value", "upload_batch_id", "updated_at").order_by("id")) == before


def test_a_database_failure_while_writing_rolls_everything_back(partners, monkeypatch):
    real_upsert = writing.upsert

    def upsert_then_fail(*args, **kwargs):
        real_upsert(*args, **kwargs)
        assert Achievement.objects.count() == 2  # written inside the transaction…
        raise DatabaseError("disk full")

    monkeypatch.setattr(writing, "upsert", upsert_then_fail)

    result = run(HEADER + "P1,revenue,2025-01,1\nP2,revenue,2025-01,2\n")

    assert not result.ok
    assert "nothing was changed: disk full" in errors(result)[0]
    assert Achievement.objects.count() == 0  # …and rolled back
    assert list(UploadBatch.objects.values_list("status", flat=True)) == ["failed"]


# Dry run (the admin preview) ----------------------------------------------------------------------------------------


def test_dry_run_reports_each_row_and_writes_nothing(partners, nps, django_capture_on_commit_callbacks):
    run(HEADER + "P1,revenue,2025-01,1200.5\nP2,revenue,2025-02,1\n")
    saved = []

    def receiver(sender, **kwargs):
        saved.append(sender)

    pre_save.connect(receiver, weak=False)
    post_save.connect(receiver, weak=False)
    before = list(Achievement.objects.values_list("id", "value", "updated_at").order_by("id"))
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            result = run(GOOD, dry_run=True)
    finally:
        pre_save.disconnect(receiver)
        post_save.disconnect(receiver)

    assert result.ok
    assert (result.created, result.updated, result.unchanged) == (2, 1, 1)
    assert [(p.row, p.status) for p in result.preview] == [(2, "unchanged"), (3, "update"), (4, "new"), (5, "new")]
    assert result.batch is None
    assert list(Achievement.objects.values_list("id", "value", "updated_at").order_by("id")) == before
    assert UploadBatch.objects.count() == 1  # the first, real upload only
    assert saved == [] and callbacks == [] and mail.outbox == []


def test_dry_run_with_errors_marks_error_rows(partners):
    result = run(HEADER + "P1,revenue,2025-01,1\n<script>alert(1)</script>,revenue,2025-01,1\n", dry_run=True)

    assert [(p.row, p.status) for p in result.preview] == [(2, "new"), (3, "error")]
    assert result.preview[1].values[0] == "<script>alert(1)</script>"
    assert UploadBatch.objects.count() == 0


def test_lookups_are_set_based(partners, nps):
    """Queries do not grow with the rows: parameters, partners (one query), then a fixed number for staging."""
    codes = [p.code for p in factories.PartnerFactory.create_batch(50, assigned_to=None)]
    small = HEADER + "".join(f"{c},revenue,2025-01,1\n" for c in codes[:2])
    large = HEADER + "".join(f"{c},revenue,2025-0{m},1\n" for c in codes for m in range(1, 4))

    with CaptureQueriesContext(connection) as few:
        assert run(small, dry_run=True).ok
    with CaptureQueriesContext(connection) as many:
        assert run(large, dry_run=True).ok

    assert len(many.captured_queries) == len(few.captured_queries)


# The command ------------------------------------------------------------------------------------------------------


@pytest.fixture
def csv_file(tmp_path):
    def write(content, name="upload.csv"):
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    return write


def test_command_imports_and_prints_a_summary(partners, nps, csv_file, capsys):
    call_command("import_achievements", csv_file(GOOD))

    out = capsys.readouterr().out
    assert "Achievements from upload.csv: 4 rows: 4 new, 0 updated, 0 unchanged, 0 errors." in out
    assert Achievement.objects.count() == 4


def test_command_dry_run_writes_nothing(partners, nps, csv_file, capsys):
    call_command("import_achievements", csv_file(GOOD), "--dry-run")

    assert "Dry run, nothing written." in capsys.readouterr().out
    assert Achievement.objects.count() == 0


def test_command_targets(partners, nps, csv_file, manager):
    call_command("import_achievements", csv_file(GOOD), "--targets", "--user", manager.username)

    assert Target.objects.filter(set_by=manager).count() == 4
    assert Achievement.objects.count() == 0


def test_command_fails_with_every_row_error(partners, csv_file, capsys):
    with pytest.raises(CommandError, match="2 errors; nothing was imported"):
        call_command("import_achievements", csv_file(HEADER + "P9,revenue,2025-01,1\nP1,revenue,2025-01,x\n"))

    err = capsys.readouterr().err
    assert "Row 2, column partner_code: unknown partner code 'P9'" in err
    assert "Row 3, column value: 'x' is not a number" in err
    assert Achievement.objects.count() == 0


def test_command_exit_status(partners, csv_file, capsys, monkeypatch):
    """As from a shell (``manage.py`` argv handling): exit status 1 when anything is wrong, 0 when fine."""
    monkeypatch.setattr(connections, "close_all", lambda: None)  # run_from_argv closes connections; keep the test's
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "import_achievements", csv_file("nonsense\n"), "--dry-run"]).execute()

    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Row 1, column partner_code, parameter, period, value, nonsense" in err
    assert "CommandError: 1 errors; nothing was imported." in err

    ManagementUtility(["manage.py", "import_achievements", csv_file(HEADER + "P1,revenue,2025-01,1\n")]).execute()
    assert Achievement.objects.count() == 1


def test_command_missing_file():
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_achievements", "/nonexistent/file.csv")


# Concurrency -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_overlapping_uploads_at_once_lose_nothing():
    partners = [factories.PartnerFactory(code=f"C{i:03d}", assigned_to=None) for i in range(150)]
    first = HEADER + "".join(f"{p.code},revenue,2025-01,1\n" for p in partners[:100])
    second = HEADER + "".join(f"{p.code},revenue,2025-01,2\n" for p in partners[50:])
    barrier = threading.Barrier(2)
    results, failures = {}, []

    def upload(name, content):
        try:
            barrier.wait()
            results[name] = run(content, name=name)
        except Exception as e:  # noqa: BLE001 (reported below)
            failures.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=args) for args in (("first", first), ("second", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert all(r.ok for r in results.values()), {n: errors(r) for n, r in results.items()}
    assert Achievement.objects.count() == 150  # no duplicates, nothing missing
    assert results["first"].created + results["second"].created == 150
    overlap = set(Achievement.objects.filter(partner__code__in=[p.code for p in partners[50:100]])
                  .values_list("value", "upload_batch_id"))
    # The 50 shared rows all hold the value of the upload that committed last (no lost or mixed update).
    last = max(results.values(), key=lambda r: r.batch.id)
    assert overlap == {(Decimal("1") if last is results["first"] else Decimal("2"), last.batch.id)}
    assert sorted(r.updated for r in results.values()) == [0, 50]


# A file without data rows ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [HEADER, HEADER.strip(), HEADER + "\n,,,\n\n"])
def test_a_header_only_file_is_rejected_as_empty(partners, content):
    preview = run(content, dry_run=True)
    result = run(content)

    assert errors(preview) == errors(result) == ["The file has no data rows (only a header)."]
    assert not result.ok
    assert list(UploadBatch.objects.values_list("status", flat=True)) == ["failed"]  # not an applied batch


# Crashes found by the fuzzer (tests/business/test_imports_fuzz.py): each is now a row/column error ------------------


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("0000-01", "'0000-01' is not a date (years 1 to 9999)"),  # date(0, 1, 1) raised ValueError
        ("0000-Q1", "'0000-Q1' is a quarter"),
        ("0000-01-01", "'0000-01-01' is not a date"),
        ("10000-01", "'10000-01' is not a period"),
        ("9" * 5000 + "-01", "is not a period"),
        ("２０２６-０１", "'２０２６-０１' is not a period"),  # \d took full-width digits and int() read them
        ("٢٠٢٥-01", "'٢٠٢٥-01' is not a period"),
        ("2026-Q0", "'2026-Q0' is not a period"),
        ("2026-Q５", "'2026-Q５' is not a period"),
    ],
)
def test_odd_periods_are_row_errors(partners, nps, period, expected):
    result = run(HEADER + f"P1,revenue,{period},1\n", dry_run=True)

    assert len(result.errors) == 1
    assert str(result.errors[0]).startswith("Row 2, column period: ")
    assert expected in str(result.errors[0]), errors(result)


def test_an_impossible_quarter_for_a_quarterly_parameter(partners, nps):
    assert errors(run(HEADER + "P1,nps,2026-Q0,1\n")) == [
        "Row 2, column period: '2026-Q0' is not a period (use YYYY-MM, YYYY-Qn or the period's first day YYYY-MM-DD)"
    ]


@pytest.mark.parametrize("text", ["1_000", "１２", "٣", "0x10", "1e", ".", "1e9999999999", "sNaN", "-inf"])
def test_odd_values_are_not_numbers(partners, text):
    assert errors(run(HEADER + f"P1,revenue,2025-01,{text}\n")) == [
        f"Row 2, column value: {text!r} is not a number (use digits and a decimal point, e.g. 1234.5)"
    ]


@pytest.mark.parametrize(("column", "line"), [
    ("partner_code", "P1\x00,revenue,2025-01,1"),  # NUL: psycopg2 raised "A string literal cannot contain NUL"
    ("parameter", "P1,reve\x00nue,2025-01,1"),
    ("period", "P1,revenue,2025\x1b-01,1"),
    ("value", "P1,revenue,2025-01,1\x7f"),
])
def test_control_characters_are_cell_errors(partners, column, line):
    result = run(HEADER + line + "\n")

    assert [(e.row, e.column) for e in result.errors] == [(2, column)]
    assert "control character" in result.errors[0].message
    assert UploadBatch.objects.get().status == "failed"  # stored without the NUL (jsonb refuses it)


def test_a_very_long_cell_is_cut_in_messages(partners):
    result = run(HEADER + "X" * 100_000 + ",revenue,2025-01,1\n", dry_run=True)

    assert errors(result) == [f"Row 2, column partner_code: unknown partner code {'X' * 100!r} (cut; 100000 characters)"]


def test_unknown_codes_are_checked_in_sql_on_rows_with_other_errors_too(partners):
    result = run(HEADER + "P9,revenue,2025-01,x\nP9,revenue,2025-02,1\nP1,revenue,2025-02,1\n", dry_run=True)

    assert [(e.row, e.column) for e in result.errors] == [(2, "partner_code"), (2, "value"), (3, "partner_code")]
    assert [(p.row, p.status) for p in result.preview] == [(2, "error"), (3, "error"), (4, "new")]


def test_duplicates_name_the_first_row_each_time(partners):
    result = run(HEADER + "P1,revenue,2025-01,1\nP1,revenue,2025-01,2\nP1,revenue,2025-01,3\n")

    assert errors(result) == [
        f"Row {n}, column partner_code, parameter, period: duplicate of row 2: rows 2 and {n} have the same partner, "
        "parameter and period"
        for n in (3, 4)
    ]


def _raw_xlsx(*cells):
    from tests.business.test_imports_fuzz import raw_xlsx, text_cell

    header = [text_cell(c) for c in ("partner_code", "parameter", "period", "value")]
    return raw_xlsx([header, [text_cell("P1"), text_cell("revenue"), text_cell("2025-01"), *cells]])


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("value_cell", "expected"),
    [
        ('<c t="d"><v>nonsense</v></c>', "Row 2: The workbook cannot be read from here on"),  # openpyxl ValueError
        ('<c t="n"><v>NaN</v></c>', "Row 2: The workbook cannot be read from here on"),  # int('NaN') in openpyxl
        ('<c t="n"><v>inf</v></c>', "Row 2: The workbook cannot be read from here on"),
        (f'<c t="n"><v>{"9" * 5000}</v></c>', "Row 2: The workbook cannot be read from here on"),  # > 4300 digits
        ('<c t="s"><v>5</v></c>', "Row 2: The workbook cannot be read from here on"),  # IndexError: no shared string
        ('<c t="n"><v>1e309</v></c>', "Row 2, column value: 'inf' is not a number"),
        ('<c t="n"><v>1e300</v></c>', "Row 2, column value: '10000000000000000525047602552044202487044685811081591549158541"
                                      "15511802457988908195786371375080447864' (cut; 301 characters) is too large"),
        ('<c s="1" t="n"><v>1e20</v></c>', "Row 2, column value: '#VALUE!' is not a number"),  # a date out of range
        ('<c t="e"><v>#N/A</v></c>', "Row 2, column value: '#N/A' is not a number"),
        ('<c t="b"><v>1</v></c>', "Row 2, column value: 'True' is not a number"),
        ('<c t="d"><v>10:30:00</v></c>', "Row 2, column value: '10:30:00' is not a number"),
        ('<c t="inlineStr"><is><t>1\t2</t></is></c>', "Row 2, column value: contains the control character U+0009"),
    ],
)
def test_odd_xlsx_cells_are_errors(partners, value_cell, expected):
    result = run(_raw_xlsx(value_cell), name="upload.xlsx")

    assert not result.ok
    assert errors(result)[0].startswith(expected), errors(result)
    assert UploadBatch.objects.get().status == "failed"


def test_an_xlsx_date_and_time_cell(partners):
    result = run(_raw_xlsx('<c s="1" t="n"><v>45658.5</v></c>'), name="upload.xlsx", dry_run=True)

    assert errors(result) == ["Row 2, column value: '2025-01-01T12:00:00' is not a number (use digits and a decimal "
                              "point, e.g. 1234.5)"]


def test_a_large_valid_file_streams_with_flat_memory(partners):
    """Rows flow from the reader into the staging table: Python keeps no per-row state (the previews are capped)."""
    import tracemalloc

    factories.PartnerFactory.create_batch(1, code="Q1", assigned_to=None)
    small = HEADER + "".join(f"P1,revenue,{2000 + m // 12}-{m % 12 + 1:02d},{m}\n" for m in range(300))
    large = HEADER + "".join(f"P{1 + i % 3},revenue,{1000 + i // 36}-{i // 3 % 12 + 1:02d},{i}\n" for i in range(12_000))

    def peak(content):
        data = io.BytesIO(content.encode())
        tracemalloc.start()
        result = import_period_values(file=data, file_name="x.csv", kind="achievements", dry_run=True)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert result.ok, errors(result)[:3]
        return top

    assert peak(large) < peak(small) + 2_000_000  # 40× the rows, about the same peak


# After the upload ---------------------------------------------------------------------------------------------------


def test_an_applied_achievement_upload_applies_the_inactivity_rules_after_commit(
    partners, django_capture_on_commit_callbacks, settings
):
    """New figures can break the business rule: the tagging task is enqueued once the upload commits (and runs in
    process when Celery is eager, as with CELERY_EAGER=True)."""
    settings.OUTBOX_CONSUMERS = {}  # the upload's event wakes no consumer here (tests/outbox covers that callback)
    from business.models import InactivityRule
    from prm.celery import app

    last_month = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    rule = InactivityRule.load()
    rule.engagement_enabled, rule.business_enabled, rule.business_minimum = False, True, Decimal("1000")
    rule.save()
    Partner.objects.update(created_at=timezone.now() - timedelta(days=400))
    content = HEADER + f"P1,revenue,{last_month:%Y-%m},50\nP2,revenue,{last_month:%Y-%m},5000\nP3,revenue,{last_month:%Y-%m},5000\n"
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert run(content).ok
        assert len(callbacks) == 1
    finally:
        app.conf.task_always_eager = eager
    assert dict(Partner.objects.values_list("code", "status")) == {"P1": "inactive", "P2": "active", "P3": "active"}
    # A dry run, or an upload that changes nothing, enqueues nothing.
    with django_capture_on_commit_callbacks() as callbacks:
        run(content, dry_run=True)
        run(content)
    assert callbacks == []
