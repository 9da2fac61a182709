"""The resource library in the browser, on a phone (390×844) and a desktop (1280×800): a partner user opens the
library from the portal's tab strip, searches, opens a result and downloads its file (an attachment, counted); a
manager uploads a file resource and publishes it, and the partner sees it. Nothing scrolls sideways, the controls are
comfortable taps, no Content-Security-Policy violation, no request leaves the server; screenshots in artifacts/
(``library-<page>-<width>.png``)."""

from urllib.parse import urlparse

import pytest

from library import services
from library.models import Resource, Tag
from portal.models import Membership
from tests import factories
from tests.browser.conftest import screenshot
from tests.browser.test_mobile import check_layout
from tests.factories import PASSWORD
from tests.library.conftest import PDF, make_resource, upload
from tests.portal.conftest import make_member

VIEWPORTS = [(390, 844), (1280, 800)]


def build(width):
    rep = factories.rep_user(username=f"lib-rep-{width}")
    manager = factories.manager_user(username=f"lib-manager-{width}")
    partner = factories.PartnerFactory(name="Sri Venkateshwara Agro Distributors Private Limited", assigned_to=rep,
                                       tier=factories.tier("Gold"))
    member = make_member(partner, role=Membership.Role.MEMBER, username=f"max-{width}@acme.example",
                         first_name="Max", last_name="Member", email=f"max-{width}@acme.example")
    sales = services.category_save(category=None, name=f"Sales enablement {width}")
    playbooks = services.category_save(category=None, name="Playbooks and very long category names", parent=sales)
    step = services.tag_save(tag=None, kind=Tag.Kind.PROGRAM_STEP, name=f"Deal registration {width}")
    industry = services.tag_save(tag=None, kind=Tag.Kind.INDUSTRY, name=f"Agriculture {width}")
    make_resource(playbooks, title="Deal registration step by step", kind=Resource.Kind.FILE,
                  description="Everything about registering a deal: protection, extensions, conflicts.",
                  upload=upload("deal-registration-guide-with-a-long-name.pdf", PDF), tags=[step, industry],
                  version="2.1")
    make_resource(sales, title="Welcome to the partner programme", body="# Welcome\n\nRead the **handbook**.",
                  tags=[step])
    make_resource(sales, title="Product demo", kind=Resource.Kind.VIDEO, url="https://video.example/demo")
    for n in range(6):
        make_resource(sales, title=f"Price list region {n}", description="Quarterly prices " * 5)
    return partner, member, manager, sales


def watch(page, host):
    csp, external = [], []
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("request", lambda request: external.append(request.url)
            if urlparse(request.url).hostname not in (host, None) and not request.url.startswith("data:") else None)
    return csp, external


def log_in(page, live_server, username, landing):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{landing}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_a_partner_user_searches_and_downloads(browser, live_server, width, height, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    partner, member, _manager, _sales = build(width)
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    csp, external = watch(page, urlparse(live_server.url).hostname)
    try:
        log_in(page, live_server, member.user.username, "/portal/")
        page.locator(".mainnav a", has_text="Library").click()
        page.wait_for_url("**/portal/library/")
        assert "Sales enablement" in page.locator("#shelves").inner_text()
        check_layout(page, "library", width)
        screenshot(page, f"library-home-{width}")

        page.fill("#library-q", "registering deals")
        page.locator("#library-search button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        results = page.locator("#resource-list .library-title")
        assert results.first.inner_text() == "Deal registration step by step"
        check_layout(page, "library-search", width)
        screenshot(page, f"library-search-{width}")

        results.first.click()
        page.wait_for_selector("#download")
        check_layout(page, "library-resource", width)
        screenshot(page, f"library-resource-{width}")
        with page.expect_download() as info:
            page.locator("#download").click()
        download = info.value
        assert download.suggested_filename == "deal-registration-guide-with-a-long-name.pdf"
        assert open(download.path(), "rb").read() == PDF
        assert Resource.objects.get(title="Deal registration step by step").download_count == 1

        # A tag chip filters; the video opens in a new tab.
        page.goto(f"{live_server.url}/portal/library/")
        page.locator(".library-tag-filter a", has_text="Agriculture").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#resource-list .library-title").all_inner_texts() == ["Deal registration step by step"]
        check_layout(page, "library-tags", width)
        assert csp == []
        assert external == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_a_manager_uploads_and_publishes(browser, live_server, width, height, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    partner, member, manager, sales = build(width)
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    csp, external = watch(page, urlparse(live_server.url).hostname)
    try:
        log_in(page, live_server, manager.username, "/today/")
        page.goto(f"{live_server.url}/library/")
        check_layout(page, "library-staff", width)
        screenshot(page, f"library-staff-list-{width}")
        page.locator("#new-resource").click()
        page.wait_for_url("**/library/new/")
        page.select_option("#id_kind", "file")
        page.fill("#id_title", "Co-marketing fund <rules>")
        page.fill("#id_description", "How to claim your co-marketing money.")
        page.select_option("#id_category", str(sales.pk))
        page.fill("#id_version", "2027.1")
        page.set_input_files("#id_file", files=[{"name": "fund.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        check_layout(page, "library-staff-form", width)
        screenshot(page, f"library-staff-form-{width}")
        page.locator("#save-publish").click()
        page.wait_for_load_state("networkidle")
        assert "Published to" in page.locator(".messages").inner_text()
        assert page.locator("#state").inner_text() == "Published"
        resource = Resource.objects.get(title="Co-marketing fund <rules>")
        assert resource.published and resource.file_name == "fund.pdf"
        # A fake PDF is refused next to its field.
        page.goto(f"{live_server.url}/library/new/")
        page.select_option("#id_kind", "file")
        page.fill("#id_title", "Fake")
        page.select_option("#id_category", str(sales.pk))
        page.set_input_files("#id_file", files=[{"name": "fake.pdf", "mimeType": "application/pdf",
                                                 "buffer": b"<html><script>alert(1)</script>"}])
        page.locator("#save").click()
        page.wait_for_load_state("networkidle")
        assert "not a PDF document" in page.locator("#resource-form").inner_text()
        check_layout(page, "library-staff-form-error", width)
        # Categories (a third level is not offered) and tags fit the screen too.
        page.goto(f"{live_server.url}/library/categories/")
        assert "Playbooks and very long category names" in page.locator("#category-list").inner_text()
        assert "Playbooks" not in page.locator("#id_parent").inner_text()  # only top categories can be parents
        check_layout(page, "library-staff-categories", width)
        screenshot(page, f"library-staff-categories-{width}")
        page.goto(f"{live_server.url}/library/tags/")
        check_layout(page, "library-staff-tags", width)
        assert csp == []
        assert external == []
    finally:
        context.close()
    # The partner user finds the new resource in its library.
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        log_in(page, live_server, member.user.username, "/portal/")
        page.goto(f"{live_server.url}/portal/library/?q=co-marketing")
        assert "Co-marketing fund <rules>" in page.locator("#resource-list").inner_text()
    finally:
        context.close()
