"""Exports (achievements, targets, partners) are safe to open in a spreadsheet and upload back unchanged."""

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from business.imports import import_period_values
from business.models import Achievement, Parameter, Target
from business.resources import FORMULA_PREFIXES, escape_formula
from partners.admin import PartnerResource
from tests import factories

pytestmark = pytest.mark.django_db

CSV_FORMAT, XLSX_FORMAT = "0", "1"  # export_formats = [CSV, XLSX]
NASTY = ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


@pytest.mark.parametrize("text", NASTY)
def test_escape_formula_neutralises_each_prefix(text):
    assert escape_formula(text) == "'" + text


@pytest.mark.parametrize("value", ["Acme", "P-1", "a=b", "", 12, Decimal("-1"), None])
def test_escape_formula_leaves_other_cells(value):
    assert escape_formula(value) == value


def test_the_library_setting_alone_is_not_enough():
    """django-import-export 4.4.3's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips "=": hence our escaping."""
    from import_export.formats.base_formats import CSV

    dataset = __import__("tablib").Dataset(["+1+2"], ["@SUM(A1)"], headers=["cell"])
    CSV()._escape_formulae(dataset)
    assert [row[0] for row in dataset] == ["+1+2", "@SUM(A1)"]
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}


def export(client, model, file_format, fields):
    resource = f"{model}resource"
    data = {"format": file_format, "resource": "0", **{f"{resource}_{name}": "on" for name in fields}}
    response = client.post(reverse(f"admin:{_app(model)}_{model}_export"), data)
    assert response.status_code == 200, response.content[:500]
    return response


def _app(model):
    return "partners" if model == "partner" else "business"


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


@pytest.fixture
def nasty_partner(db):
    return factories.PartnerFactory(code="@P1", name="=HYPERLINK(\"http://evil\",\"click\")", assigned_to=None,
                                    website="", notes="+SUM(1)")


def test_partner_export_csv_is_escaped(manager_client, nasty_partner):
    response = export(manager_client, "partner", CSV_FORMAT, ["code", "name", "status_reason"])

    rows = csv_rows(response)
    assert rows[0] == ["code", "name", "status_reason"]
    assert rows[1] == ["'@P1", "'=HYPERLINK(\"http://evil\",\"click\")", ""]


def test_partner_export_xlsx_is_escaped(manager_client, nasty_partner):
    response = export(manager_client, "partner", XLSX_FORMAT, ["code", "name"])

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [cell for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert [c.value for c in cells] == ["'@P1", "'=HYPERLINK(\"http://evil\",\"click\")"]
    assert {c.data_type for c in cells} == {"s"}  # text, not formulas


def test_partner_resource_escapes_every_text_field(nasty_partner):
    nasty_partner.status_reason = "-cmd"
    nasty_partner.save()

    dataset = PartnerResource().export()

    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["code"] == "'@P1" and row["status_reason"] == "'-cmd" and row["name"].startswith("'=")
    assert row["assigned_to"] == ""


def test_achievement_export_round_trips_through_the_import(manager_client, db):
    partners = [factories.PartnerFactory(code=code, assigned_to=None) for code in ("=P1", "P2")]
    nps = Parameter.objects.create(code="nps", name="NPS", frequency="quarterly", source="uploaded")
    Achievement.objects.create(partner=partners[0], parameter=factories.parameter(), period_start=date(2025, 1, 1),
                               value=Decimal("1200.5"), source="upload")
    Achievement.objects.create(partner=partners[1], parameter=nps, period_start=date(2025, 4, 1),
                               value=Decimal("42"), source="upload")

    response = export(manager_client, "achievement", CSV_FORMAT, ["partner_code", "parameter", "period", "value"])

    rows = csv_rows(response)
    assert rows[0] == ["partner_code", "parameter", "period", "value"]
    assert sorted(rows[1:]) == [["'=P1", "revenue", "2025-01", "1200.5"], ["P2", "nps", "2025-Q2", "42"]]

    # Without the formula row (its escaped code is, by design, not the partner's code) it uploads back unchanged.
    content = "\r\n".join(",".join(r) for r in rows if not r[0].startswith("'")).encode()
    result = import_period_values(file=io.BytesIO(content), file_name="export.csv", kind="achievements", dry_run=False)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1), [str(e) for e in result.errors]


def test_target_export(manager_client, db):
    partner = factories.PartnerFactory(code="P1", assigned_to=None)
    Target.objects.create(partner=partner, parameter=factories.parameter(), period_start=date(2025, 2, 1),
                          value=Decimal("10.2500"))

    rows = csv_rows(export(manager_client, "target", CSV_FORMAT, ["partner_code", "parameter", "period", "value"]))

    assert rows[1:] == [["P1", "revenue", "2025-02", "10.25"]]
