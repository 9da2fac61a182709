"""Property-based fuzzing of the whole read → validate → stage path: every input is either accepted or reported as
errors that name a row and column (or the file); nothing raises.

Files are generated from a grammar of near-valid CSV and XLSX files (odd periods, values, control characters, cell
types, encodings) plus random bytes. The budget is bounded (``max_examples``) so it runs in the normal suite.
"""

import io
import zipfile
from datetime import datetime
from xml.sax.saxutils import escape

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from business.imports import ImportResult, RowError, import_period_values
from business.models import Parameter
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning")]  # openpyxl on odd dates

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure in CI is a failure locally
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Z", "Cc")), max_size=12)
YEARS = st.sampled_from(["2025", "0000", "0001", "9999", "10000", "99999999999999999999", "２０２６", "٢٠٢٥", "-001", ""])
MONTHS = st.sampled_from(["01", "1", "00", "12", "13", "０１", "99", ""])
PERIODS = st.one_of(
    st.builds(lambda y, m: f"{y}-{m}", YEARS, MONTHS),
    st.builds(lambda y, q: f"{y}-{q}", YEARS, st.sampled_from(["Q1", "q4", "Q0", "Q5", "Q", "Q１", "Q99999"])),
    st.builds(lambda y, m, d: f"{y}-{m}-{d}", YEARS, MONTHS, st.sampled_from(["01", "00", "31", "32", "０１"])),
    ODD_TEXT,
)
VALUES = st.one_of(
    st.sampled_from(["1", "0", "-0", "1200.5", "NaN", "-inf", "sNaN", "1e20", "1e-999999999", "1e999999999999999999",
                     "9" * 5000, "1_000", "１２", "0x10", "1.23456", " 7 ", "٣", "1e", ".", "+.5", "-0.0"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    ODD_TEXT,
)
CODES = st.one_of(st.sampled_from(["P1", "P2", "P9", "", " P1 ", "P1\x00", "P\ud800"[:1] + "1", "=P1"]), ODD_TEXT)
PARAMETERS = st.one_of(st.sampled_from(["revenue", "nps", "", "REVENUE", "bogus"]), ODD_TEXT)
CELL = st.one_of(CODES, PARAMETERS, PERIODS, VALUES)
HEADERS = st.one_of(
    st.just(["partner_code", "parameter", "period", "value"]),
    st.permutations(["partner_code", "parameter", "period", "value"]).map(list),
    st.lists(st.sampled_from(["partner_code", "parameter", "period", "value", "", "x", "Value "]), max_size=6),
)
ROWS = st.lists(
    st.one_of(
        st.tuples(CODES, PARAMETERS, PERIODS, VALUES).map(list),
        st.lists(CELL, max_size=7),
    ),
    max_size=8,
)


def _csv_cell(text):
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


@st.composite
def csv_files(draw):
    header = draw(HEADERS)
    rows = draw(ROWS)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(",".join(_csv_cell(c) for c in row) for row in [header, *rows])
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    for _ in range(draw(st.integers(0, 3))):  # splice in random bytes (NUL, invalid UTF-8, quotes…)
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=6)) + data[at:]
    return data


# XLSX: a real workbook written by openpyxl whose sheet XML is replaced by generated cells of every type, so cells can
# hold what openpyxl itself would refuse to write (control characters, huge numbers, error values, odd dates).
def _template():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["x"])
    sheet["A2"] = datetime(2025, 1, 1)  # style 1 = a date format
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as z:
        return {name: z.read(name) for name in z.namelist()}


TEMPLATE = _template()


def _xml_text(text):
    # Characters XML cannot carry are written as Excel's _xHHHH_ escapes, which openpyxl decodes back.
    out = []
    for ch in text:
        code = ord(ch)
        if code < 0x20 and ch not in "\t\n" or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
            out.append(f"_x{code:04X}_")
        else:
            out.append(escape(ch))
    return "".join(out)


def text_cell(text):
    return f'<c t="inlineStr"><is><t>{_xml_text(text)}</t></is></c>'


XLSX_CELLS = st.one_of(
    CELL.map(text_cell),
    st.sampled_from(["0", "1", "0.1", "1e308", "1e309", "-1e309", "NaN", "inf", "9" * 400, "9" * 5000, "-5", "x", ""]).map(
        lambda v: f'<c t="n"><v>{v}</v></c>'
    ),
    st.sampled_from(["45658", "0", "0.5", "-1", "2958466", "1e20", "99999999", "nan", "x"]).map(
        lambda v: f'<c s="1" t="n"><v>{v}</v></c>'
    ),
    st.sampled_from(["0", "1", "2", "x"]).map(lambda v: f'<c t="b"><v>{v}</v></c>'),
    st.sampled_from(["#N/A", "#DIV/0!", "#REF!"]).map(lambda v: f'<c t="e"><v>{v}</v></c>'),
    st.sampled_from(["2025-01-01", "2025-01-01T10:00:00", "10:30:00", "0000-01-01", "nonsense"]).map(
        lambda v: f'<c t="d"><v>{v}</v></c>'
    ),
    st.sampled_from(["0", "5", "-1", "x"]).map(lambda v: f'<c t="s"><v>{v}</v></c>'),  # no shared strings part
    st.just("<c/>"),
)


def raw_xlsx(rows):
    """An XLSX file whose first sheet holds ``rows`` of raw ``<c>`` elements (style 1 is a date format)."""
    sheet_rows = "".join(f"<row>{''.join(cells)}</row>" for cells in rows)
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{sheet_rows}</sheetData></worksheet>"
    ).encode()
    parts = {**TEMPLATE, "xl/worksheets/sheet1.xml": sheet}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return buffer.getvalue()


@st.composite
def xlsx_files(draw):
    header = draw(st.one_of(HEADERS.map(lambda h: [text_cell(c) for c in h]), st.lists(XLSX_CELLS, max_size=5)))
    data = raw_xlsx([header, *draw(st.lists(st.lists(XLSX_CELLS, max_size=6), max_size=6))])
    if draw(st.integers(0, 9)) == 0:  # now and then, a damaged archive
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at + 1 :]
    return data


@pytest.fixture
def known(db):
    factories.PartnerFactory(code="P1", assigned_to=None)
    factories.PartnerFactory(code="P2", assigned_to=None)
    factories.parameter("revenue")
    Parameter.objects.get_or_create(code="nps", defaults={"name": "NPS", "frequency": "quarterly", "source": "uploaded"})


def check(result):
    assert isinstance(result, ImportResult)
    assert result.error_count >= len(result.errors)
    for error in result.errors:
        assert isinstance(error, RowError)
        assert error.message
        str(error)
    if result.ok:
        assert result.rows_total > 0  # an accepted file has rows


@FUZZ
@given(data=st.one_of(csv_files(), st.binary(max_size=200)), dry_run=st.booleans())
def test_any_csv_is_accepted_or_reported(known, data, dry_run):
    check(import_period_values(file=io.BytesIO(data), file_name="fuzz.csv", kind="achievements", dry_run=dry_run))


@FUZZ
@given(data=xlsx_files(), dry_run=st.booleans(), kind=st.sampled_from(["achievements", "targets"]))
def test_any_xlsx_is_accepted_or_reported(known, data, dry_run, kind):
    check(import_period_values(file=io.BytesIO(data), file_name="fuzz.xlsx", kind=kind, dry_run=dry_run))
