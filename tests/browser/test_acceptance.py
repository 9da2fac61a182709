"""Acceptance (issue 6): two end-to-end journeys on the real pages, against the live server.

1. A new sales rep: logs in, sees only their own partners (another rep's partner is neither listed nor reachable),
   filters the list by tier and "overdue only", opens a partner, finds the one-tap call/email links on its primary
   contacts, schedules a meeting, logs a call that changes the last engagement, and reads the business card and the
   trendline (drawn by the bundled plotly.js, nothing loaded from elsewhere).
2. A manager: uploads an achievements CSV in the admin, sees the bad row named by row and column with nothing written,
   fixes the file, previews and confirms it, finds the values on the partner page, and after the nightly inactivity
   tagging (run here as the management command) sees the partner Inactive with the rule's reason.
"""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from activities.models import Activity
from activities.services import activity_log
from business import periods
from business.models import Achievement, InactivityRule, Parameter, Target, UploadBatch
from business.selectors import pace_percent
from partners.models import ContactPoint, Partner
from prm import formats
from tests import factories
from tests.browser.conftest import login, screenshot


def _day_time(moment):
    """A datetime as the partner page shows it ("j M Y, H:i")."""
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def _logged_before(partner, by, days, kind=Activity.Kind.CALL, subject="Check-in call"):
    """A past engagement, logged through the service as a rep would (keeps last/next/due in step)."""
    moment = timezone.now() - timedelta(days=days)
    activity_log(partner=partner, by=by, kind=kind, start_at=moment, duration_minutes=20, subject=subject)
    partner.refresh_from_db()
    return partner


def _apply_filters(page, *, tier=None, overdue=False):
    """Set the list's filter form and submit it (opening the panel first when it is closed)."""
    if not page.locator("form.filter-form").is_visible():
        page.click("details.filters summary")
    if tier:
        page.select_option("#id_tier", label=tier)
    else:
        page.select_option("#id_tier", index=0)  # "Any tier"
    page.set_checked("#id_overdue", overdue)
    with page.expect_navigation():
        page.click("form.filter-form button[type=submit]")


def _row_names(page):
    return [name.strip() for name in page.locator("tbody tr td.cell-name a").all_inner_texts()]


def _pace_text(generated, target, month_start):
    """The Target column's / card's pacing label: "on pace 104%" or "behind 85%" (business.selectors.pace_percent)."""
    pace = pace_percent(Decimal(generated), Decimal(target), *periods.elapsed_days(month_start, "monthly",
                                                                                  periods.org_today()))
    return f"{'on pace' if pace >= 100 else 'behind'} {pace}%"


# --- 1. A new sales rep ------------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_new_rep_journey(page, live_server):
    rep = factories.rep_user(username="priya.nair", first_name="Priya", last_name="Nair")
    other_rep = factories.rep_user(username="arjun.mehta", first_name="Arjun", last_name="Mehta")

    anand = factories.PartnerFactory(code="AND-101", name="Anand Distributors", tier=factories.tier("Gold"),
                                     assigned_to=rep)
    # Non-primary contacts first (lower ids), so the quick links cannot pick the primary one by accident of order.
    for kind, value, label, primary in [
        (ContactPoint.Kind.MOBILE, "+91 99000 55555", "Accounts", False),
        (ContactPoint.Kind.EMAIL, "accounts@ananddistributors.in", "Accounts", False),
        (ContactPoint.Kind.MOBILE, "+91 98450 12345", "Owner", True),
        (ContactPoint.Kind.EMAIL, "orders@ananddistributors.in", "Orders", True),
    ]:
        factories.ContactPointFactory(partner=anand, kind=kind, value=value, label=label, is_primary=primary)
    warehouse = factories.LocationFactory(partner=anand, label="Warehouse", is_primary=True,
                                          address="14 Industrial Estate, Peenya, Bengaluru")
    _logged_before(anand, rep, days=20, subject="Festive season stock")  # Gold: every 14 days, so overdue
    old_last_engaged = timezone.localtime(anand.last_engaged_at)

    bharat = factories.partner_with_contacts(code="BEL-102", name="Bharat Electricals",
                                             tier=factories.tier("Gold"), assigned_to=rep)
    _logged_before(bharat, rep, days=3)  # Gold, engaged recently: not overdue
    coromandel = factories.partner_with_contacts(code="COS-103", name="Coromandel Solar",
                                                 tier=factories.tier("Silver"), assigned_to=rep)
    _logged_before(coromandel, rep, days=45)  # Silver: every 30 days, so overdue
    factories.partner_with_contacts(code="DEH-104", name="Deccan Hardware", tier=factories.tier("Platinum"),
                                    assigned_to=rep)  # new, never engaged, due in 7 days
    eastern = factories.partner_with_contacts(code="EAP-201", name="Eastern Pumps", tier=factories.tier("Gold"),
                                              assigned_to=other_rep)
    _logged_before(eastern, other_rep, days=30)  # Gold and overdue: would match every filter below if visible

    # Business: revenue target and generated for the last 12 months (the current one: 415,000 of 500,000).
    revenue = Parameter.objects.get(code=Parameter.REVENUE)
    months = periods.last_periods(revenue.frequency, 12, timezone.localdate())
    generated = [310_000, 0, 295_500, 402_000, 388_250, 451_000, 362_500, 0, 420_000, 476_300, 380_000, 415_000]
    for start, value in zip(months, generated, strict=True):
        Target.objects.create(partner=anand, parameter=revenue, period_start=start, value=Decimal(500_000))
        if value:
            Achievement.objects.create(partner=anand, parameter=revenue, period_start=start, value=Decimal(value))

    # Log in: only my four partners.
    login(page, live_server, rep)
    assert page.url == f"{live_server.url}/today/"  # where a rep lands (issue 11)
    page.goto(f"{live_server.url}/partners/?sort=name")  # a rep's list defaults to most urgent first
    assert page.locator("h1").inner_text() == "My partners"
    assert _row_names(page) == ["Anand Distributors", "Bharat Electricals", "Coromandel Solar", "Deccan Hardware"]
    assert "Eastern Pumps" not in page.locator("main").inner_text()
    # ... and another rep's partner is not there at all, not even by its address.
    response = page.goto(f"{live_server.url}/partners/{eastern.pk}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/partners/{eastern.pk}/activities/schedule/")
    assert response.status == 404

    # Filter through the form: overdue only, then Gold and overdue (by name: the form keeps the sort).
    page.goto(f"{live_server.url}/partners/?sort=name")
    _apply_filters(page, overdue=True)
    assert "overdue=on" in page.url
    assert _row_names(page) == ["Anand Distributors", "Coromandel Solar"]
    assert page.locator("tbody tr.is-overdue").count() == 2
    _apply_filters(page, tier="Gold", overdue=True)
    assert f"tier={factories.tier('Gold').pk}" in page.url and "overdue=on" in page.url
    assert _row_names(page) == ["Anand Distributors"]
    row = page.locator("tbody tr").first
    assert "overdue" in row.locator("td[data-label='Last engagement']").inner_text()
    assert row.locator("a.qa-call").get_attribute("href") == "tel:+919845012345"
    assert row.locator("a.qa-email").get_attribute("href") == "mailto:orders@ananddistributors.in"
    # 415,000 of 500,000 (83 %) so far, shown as pacing: against 500,000 × the elapsed share of this month
    assert row.locator("td[data-label='Target']").inner_text().startswith(_pace_text(415_000, 500_000, months[-1]))
    _apply_filters(page, tier="Gold", overdue=False)
    assert _row_names(page) == ["Anand Distributors", "Bharat Electricals"]
    _apply_filters(page, tier="Gold", overdue=True)
    screenshot(page, "acceptance-rep-list")

    # Open the partner.
    with page.expect_navigation():
        page.click("tbody tr td.cell-name a:has-text('Anand Distributors')")
    page.wait_for_selector("#quick-contact")
    assert page.url == f"{live_server.url}/partners/{anand.pk}/"
    assert page.locator("h1").inner_text() == "Anand Distributors"
    assert page.locator("#partner-state").inner_text().strip() == "Active"
    assert page.locator(".partner-head .badge.bad").inner_text() == "overdue"
    last_engaged = page.locator(".partner-head .facts div:has(dt:text-is('Last engaged')) dd")
    assert _day_time(old_last_engaged) in last_engaged.inner_text()

    # One-tap links go to the PRIMARY mobile and email, not to the other contacts listed below them.
    quick = page.locator("#quick-contact .quick-actions")
    assert quick.locator("a.qa-call").get_attribute("href") == "tel:+919845012345"
    assert quick.locator("a.qa-sms").get_attribute("href") == "sms:+919845012345"
    assert quick.locator("a.qa-email").get_attribute("href") == "mailto:orders@ananddistributors.in"
    assert quick.locator("a[href='tel:+919900055555'], a[href='mailto:accounts@ananddistributors.in']").count() == 0
    listed = page.locator("#quick-contact .contact-list").inner_text()
    assert "+91 99000 55555" in listed and "accounts@ananddistributors.in" in listed

    # Business card: this month's revenue against target, and the trendline drawn by the local plotly.js.
    card_row = page.locator("#business-card tr[data-parameter='revenue']")
    cells = card_row.locator("td").all_inner_texts()
    assert cells[0] == formats.format_period(periods.label(months[-1], "monthly"))  # "Nov 2026"
    assert (cells[1], cells[2]) == ("USD 500,000", "USD 415,000")  # revenue's unit is USD
    assert cells[3].startswith(_pace_text(415_000, 500_000, months[-1])) and "83% of target" in cells[3]
    # like with like: last month (full) against the month before (full), not this month so far
    assert cells[4].startswith(f"{formats.format_period(periods.label(months[-2], 'monthly'))}: USD 380,000")
    assert "▼ -96,300 (-20%) vs" in cells[4]  # 380,000 vs 476,300
    page.wait_for_selector("#trend-chart svg.main-svg")
    assert page.locator("#trend-chart .trace.bars .point").count() == 12
    assert page.locator("#trend-chart .scatterlayer .trace").count() == 1  # the target line
    plotly_src = page.locator("script[src*='plotly']").get_attribute("src")
    assert plotly_src.startswith("/static/") and "vendor/plotly/" in plotly_src
    screenshot(page, "acceptance-rep-partner")

    # Schedule a meeting through the form; it shows under next engagements.
    assert "Nothing scheduled" in page.locator("#next-engagements").inner_text()
    with page.expect_navigation():
        page.click(".head-actions a:has-text('Schedule')")
    page.wait_for_selector("#id_kind")
    meeting = timezone.localtime(timezone.now() + timedelta(days=3)).replace(hour=11, minute=15, second=0,
                                                                              microsecond=0)
    page.select_option("#id_kind", "meeting")
    page.fill("#id_start_at", meeting.strftime("%Y-%m-%dT11:15"))  # one datetime-local picker
    page.fill("#id_duration_minutes", "60")
    page.select_option("#id_location", str(warehouse.pk))
    page.fill("#id_subject", "Quarterly order planning")
    screenshot(page, "acceptance-rep-schedule-form")
    with page.expect_navigation():
        page.click("form button[type=submit].primary")
    page.wait_for_selector("#next-engagements")
    assert page.url == f"{live_server.url}/partners/{anand.pk}/"
    assert "Meeting scheduled." in page.locator(".messages").inner_text()
    upcoming = page.locator("#next-engagements .activity-list li")
    assert upcoming.count() == 1
    text = upcoming.first.inner_text()
    assert "Meeting" in text and "Quarterly order planning" in text and "11:15" in text and "60 min" in text
    assert "Warehouse" in text
    next_engagement = page.locator(".partner-head .facts div:has(dt:text-is('Next engagement')) dd")
    assert next_engagement.inner_text() == _day_time(meeting)

    # Log a call that happened an hour ago: the last engagement changes and the partner is no longer overdue.
    call = timezone.localtime(timezone.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    with page.expect_navigation():
        page.click(".head-actions a:has-text('Log activity')")
    page.wait_for_selector("#id_outcome")
    page.select_option("#id_kind", "call")
    page.fill("#id_start_at", call.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_duration_minutes", "15")
    page.fill("#id_subject", "Payment follow-up")
    page.fill("#id_outcome", "Cheque for the May invoice is ready; collecting it at the meeting.")
    with page.expect_navigation():
        page.click("form button[type=submit].primary")
    page.wait_for_selector("#past-engagements")
    assert "Call logged." in page.locator(".messages").inner_text()
    assert _day_time(call) in last_engaged.inner_text()
    assert _day_time(old_last_engaged) not in last_engaged.inner_text()
    assert page.locator(".partner-head .badge.bad").count() == 0
    latest = page.locator("#past-engagements .timeline li").first.inner_text()
    assert "Call" in latest and "Payment follow-up" in latest and "Cheque for the May invoice" in latest
    anand.refresh_from_db()
    assert anand.last_engaged_at == call
    assert anand.next_engagement_at == meeting

    # Back on the list, the overdue filter no longer finds this partner.
    page.goto(f"{live_server.url}/partners/?overdue=on")
    assert _row_names(page) == ["Coromandel Solar"]
    assert page.external_requests == []


# --- 2. A manager ------------------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_manager_journey(page, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    manager = factories.manager_user(username="meera.iyer", first_name="Meera", last_name="Iyer")
    rep = factories.rep_user(username="kiran.rao", first_name="Kiran", last_name="Rao")
    sales = Parameter.objects.create(code="secondary_sales", name="Secondary sales", unit="INR",
                                     frequency="monthly", source="uploaded", order=50)
    partner = factories.partner_with_contacts(code="KAT-014", name="Kaveri Agro Traders",
                                              tier=factories.tier("Gold"), assigned_to=rep)
    Partner.objects.filter(pk=partner.pk).update(created_at=timezone.now() - timedelta(days=400))
    _logged_before(partner, rep, days=5, kind=Activity.Kind.VISIT, subject="Shop visit")  # engaged: rule 1 is met
    months = periods.last_periods(sales.frequency, 12, timezone.localdate())
    for start in months:
        Target.objects.create(partner=partner, parameter=sales, period_start=start, value=Decimal(250_000),
                              set_by=manager)
    revenue = Parameter.objects.get(code=Parameter.REVENUE)
    for start in months[-3:]:  # existing rows, so "nothing written" is checked against a non-empty table
        Achievement.objects.create(partner=partner, parameter=revenue, period_start=start, value=Decimal(90_000))
    rule = InactivityRule.load()
    rule.business_enabled, rule.business_parameter, rule.business_minimum = True, sales, Decimal(100_000)
    rule.save()
    achievements_before = Achievement.objects.count()

    label = [periods.label(start, sales.frequency) for start in months]
    bad_csv = tmp_path / "secondary-sales.csv"
    bad_csv.write_text(
        "partner_code,parameter,period,value\n"
        f"KAT-014,secondary_sales,{label[-4]},262400\n"
        f'KAT-014,secondary_sales,{label[-3]},"231,750"\n'  # a spreadsheet's thousands separator: not a number
        f"KAT-014,secondary_sales,{label[-2]},48200\n"
        f"KAT-014,secondary_sales,{label[-1]},15300\n"
    )

    login(page, live_server, manager)
    page.goto(f"{live_server.url}/partners/")  # login lands on Today (issue 11)
    assert page.locator("h1").inner_text() == "All partners"
    page.goto(f"{live_server.url}/partners/{partner.pk}/?parameter=secondary_sales")
    assert page.locator("#partner-state").inner_text().strip() == "Active"
    before = page.locator("#business-card tr[data-parameter='secondary_sales'] td").all_inner_texts()
    assert (before[1], before[2]) == ("INR 250,000", "—")  # a target, nothing generated yet

    # The upload page, from the achievements list.
    page.goto(f"{live_server.url}/admin/business/achievement/")
    with page.expect_navigation():
        page.click("a[href$='/admin/business/achievement/import/']")
    page.wait_for_selector("#import-form")
    page.set_input_files("#id_import_file", str(bad_csv))
    page.select_option("#id_format", label="csv")
    with page.expect_navigation():
        page.click("#import-form input[type=submit]")
    errors = page.wait_for_selector("#import-errors")
    assert errors.inner_text().strip() == (
        "Row 3, column value: '231,750' is not a number (use digits and a decimal point, e.g. 1234.5)"
    )
    assert page.locator("#import-summary .count-errors").inner_text() == "1"
    error_row = page.locator("#import-preview tbody tr.error")
    assert error_row.count() == 1
    assert error_row.locator("td").first.inner_text() == "3"
    assert "231,750" in error_row.inner_text()
    assert page.locator("#confirm-import").count() == 0  # nothing to confirm
    screenshot(page, "acceptance-manager-preview-error")
    assert Achievement.objects.count() == achievements_before
    assert not Achievement.objects.filter(parameter=sales).exists()
    assert UploadBatch.objects.count() == 0

    # Fix the file, upload it again, preview, confirm.
    good_csv = tmp_path / "secondary-sales-fixed.csv"
    good_csv.write_text(bad_csv.read_text().replace('"231,750"', "231750"))
    page.set_input_files("#id_import_file", str(good_csv))
    page.select_option("#id_format", label="csv")
    with page.expect_navigation():
        page.click("#import-form input[type=submit]")
    page.wait_for_selector("#confirm-import")
    assert page.locator("#import-errors").count() == 0
    assert page.locator("#import-preview tbody tr.new").count() == 4
    assert "secondary-sales-fixed.csv" in page.locator("#confirm-import").inner_text()
    assert Achievement.objects.count() == achievements_before  # a preview writes nothing
    with page.expect_navigation():
        page.click("#confirm-import input[type=submit]")
    page.wait_for_url("**/admin/business/achievement/")
    assert "Import of secondary-sales-fixed.csv finished. 4 rows: 4 new, 0 updated, 0 unchanged, 0 errors." in (
        page.inner_text(".messagelist")
    )
    screenshot(page, "acceptance-manager-import-confirmed")
    batch = UploadBatch.objects.get()
    assert (batch.uploaded_by, batch.file_name, batch.rows_created, batch.status) == (
        manager, "secondary-sales-fixed.csv", 4, UploadBatch.Status.APPLIED)
    assert Achievement.objects.count() == achievements_before + 4
    assert dict(Achievement.objects.filter(parameter=sales).values_list("period_start", "value")) == {
        months[-4]: Decimal("262400"), months[-3]: Decimal("231750"),
        months[-2]: Decimal("48200"), months[-1]: Decimal("15300"),
    }

    # The partner page shows the uploaded values: business card and trendline.
    page.goto(f"{live_server.url}/partners/{partner.pk}/?parameter=secondary_sales")
    page.wait_for_selector("#trend-chart svg.main-svg")
    cells = page.locator("#business-card tr[data-parameter='secondary_sales'] td").all_inner_texts()
    assert cells[0] == formats.format_period(label[-1])
    assert (cells[1], cells[2]) == ("INR 250,000", "INR 15,300")
    assert cells[3].startswith(_pace_text(15_300, 250_000, months[-1])) and "6% of target" in cells[3]
    assert cells[4].startswith(f"{formats.format_period(label[-2])}: INR 48,200")
    assert "▼ -183,550 (-79%) vs" in cells[4]  # last full month 48,200 vs 231,750 the month before
    assert "Trend: Secondary sales" in page.locator("#trendline").inner_text()
    figure = page.evaluate("JSON.parse(document.getElementById('trend-data').textContent)")
    bars = next(trace for trace in figure["data"] if trace["name"] == "Generated")
    assert dict(zip(bars["x"], bars["y"], strict=True)) == {
        **{period: None for period in label[:-4]},
        label[-4]: 262400, label[-3]: 231750, label[-2]: 48200, label[-1]: 15300,
    }
    drawn = page.eval_on_selector_all(
        "#trend-chart .trace.bars .point path", "paths => paths.filter(p => p.getBBox().height > 0).length"
    )
    assert drawn == 4  # four bars; the months with no upload are gaps, not zeros
    assert page.locator("#partner-state").inner_text().strip() == "Active"

    # The nightly tagging: last month's 48,200 is under the 100,000 minimum, so the rule makes the partner Inactive.
    out = io.StringIO()
    call_command("tag_inactive_partners", stdout=out)
    assert "KAT-014" in out.getvalue() and "1 partners inactive" in out.getvalue()
    reason = f"Secondary sales 48,200 INR in {label[-2]} below minimum 100,000"
    page.reload()
    page.wait_for_selector("#status-history")
    assert page.locator("#partner-state").inner_text().strip() == f"Inactive — {reason}"
    history = page.locator("#status-history li").first.inner_text()
    assert "Active → Inactive" in history and reason in history and "set by a rule" in history
    screenshot(page, "acceptance-manager-partner-inactive")
    partner.refresh_from_db()
    assert (partner.status, partner.status_set_by, partner.status_reason) == ("inactive", "rule", reason)
    assert page.external_requests == []
