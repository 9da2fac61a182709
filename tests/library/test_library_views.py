"""The library's pages: the portal's (/portal/library/…, scoped by the viewer's partner: outside the audience is a
404 on every verb, downloads included) and the staff's (/library/…, managers and reps who see every partner; others
404). Query budgets asserted with a comment per query."""

import pytest
from django.urls import reverse

from library import services
from library.models import Category, Resource, Tag
from notifications.models import Notification
from partners.models import Partner
from portal.models import PortalEvent
from tests import factories
from tests.library.conftest import PDF, PNG, make_resource, upload

pytestmark = pytest.mark.django_db

LIBRARY = "/portal/library/"


def portal_url(name, pk):
    return reverse(f"library:{name}", args=[pk])


@pytest.fixture
def library(shelf, acme, globex):
    """Resources for everyone, for Gold (acme), for globex by name, and a draft; a few tags."""
    sales, playbooks = shelf
    step = services.tag_save(tag=None, kind=Tag.Kind.PROGRAM_STEP, name="Onboarding")
    doc = services.tag_save(tag=None, kind=Tag.Kind.DOCUMENT_TYPE, name="Guide")
    return {
        "all": make_resource(sales, title="Partner handbook", tags=[step, doc], body="Read **this**."),
        "gold": make_resource(playbooks, title="Gold playbook", kind=Resource.Kind.FILE, to_all=False,
                              tiers=[factories.tier("Gold")], tags=[doc]),
        "globex": make_resource(sales, title="Globex price list", kind=Resource.Kind.FILE, to_all=False,
                                partners=[globex]),
        "draft": make_resource(sales, title="Unfinished", kind=Resource.Kind.FILE, publish=False),
        "video": make_resource(playbooks, title="Demo video", kind=Resource.Kind.VIDEO,
                               url="https://video.example/watch?v=1"),
    }


def test_the_library_page_shows_shelves_newest_and_tags(acme_client, library, django_assert_num_queries):
    for n in range(12):  # enough rows that a query per row would show
        make_resource(library["all"].category, title=f"Extra {n}", tags=list(Tag.objects.all()))
    # session, user, membership (partner, tier), categories, visible counts per category, newest resources (with
    # category), their tags, tag chips, the bell's unread count
    with django_assert_num_queries(9):
        response = acme_client.get(LIBRARY)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="shelf-' in html and "Playbooks" in html
    assert "Globex price list" not in html and "Unfinished" not in html
    assert 'aria-current="page">Library<' in html  # the portal's tab strip


def test_search_and_tag_filter(acme_client, library, django_assert_num_queries):
    for n in range(12):
        make_resource(library["all"].category, title=f"Handbook appendix {n}", tags=list(Tag.objects.all()))
    tag = Tag.objects.get(name="Guide")
    # session, user, membership, a page of ranked results (with category), their tags, tag chips, the bell
    with django_assert_num_queries(7):
        response = acme_client.get(LIBRARY, {"q": "handbook", "tag": [str(tag.pk), "junk"]})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Partner handbook" in html and "Gold playbook" not in html  # it has the tag but not the word
    response = acme_client.get(LIBRARY, {"q": "price list"})
    assert "Globex price list" not in response.content.decode()
    assert 'id="no-results"' in response.content.decode()
    response = acme_client.get(LIBRARY, {"q": "<script>alert(1)</script>" * 30})
    assert response.status_code == 200 and "<script>alert" not in response.content.decode()


def test_a_category_page(acme_client, library, django_assert_num_queries):
    sales = library["all"].category
    for n in range(12):
        make_resource(sales, title=f"Sales doc {n}", tags=list(Tag.objects.all()))
    # session, user, membership, the category, its subcategories, visible counts, a page of resources, their tags,
    # tag chips, the bell
    with django_assert_num_queries(10):
        response = acme_client.get(portal_url("category", sales.pk))
    html = response.content.decode()
    assert response.status_code == 200 and "Playbooks" in html and "Sales doc 3" in html
    assert "Globex price list" not in html


def test_a_category_holding_nothing_visible_is_a_404(acme_client, globex):
    hidden = services.category_save(category=None, name="Globex corner")
    make_resource(hidden, title="only globex", to_all=False, partners=[globex])
    assert acme_client.get(portal_url("category", hidden.pk)).status_code == 404
    assert acme_client.get(portal_url("category", 999999)).status_code == 404


def test_an_article_is_sanitised_and_a_video_opens_safely(acme_client, shelf, django_assert_num_queries):
    article = make_resource(shelf[0], title="Evil", body="Hi <script>alert(1)</script>\n\n[x](javascript:alert(1))"
                                                         "\n\n<iframe src=https://evil.example></iframe>")
    # session, user, membership, the resource (category, parent), its tags, the bell
    with django_assert_num_queries(6):
        response = acme_client.get(portal_url("resource", article.pk))
    html = response.content.decode()
    assert "<script>alert" not in html and "<iframe" not in html and 'href="javascript' not in html
    video = make_resource(shelf[0], title="Video", kind=Resource.Kind.VIDEO, url="https://v.example/1")
    html = acme_client.get(portal_url("resource", video.pk)).content.decode()
    assert 'href="https://v.example/1" target="_blank" rel="noopener noreferrer"' in html
    # a row written some other way with a javascript: address never becomes a link
    Resource.objects.filter(pk=video.pk).update(url="javascript:alert(1)")
    html = acme_client.get(portal_url("resource", video.pk)).content.decode()
    assert "javascript:alert" not in html and 'id="open-link"' not in html


def test_download_is_an_attachment_with_nosniff_and_is_counted(acme_client, library):
    gold = library["gold"]
    response = acme_client.get(portal_url("download", gold.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="guide.pdf"' in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PDF
    acme_client.get(portal_url("download", gold.pk))
    assert acme_client.head(portal_url("download", gold.pk)).status_code == 200  # HEAD is not a download
    gold.refresh_from_db()
    assert gold.download_count == 2


def test_a_stored_file_is_served_by_its_checked_type_only(acme_client, shelf):
    resource = make_resource(shelf[0], kind=Resource.Kind.FILE, upload=upload("logo.png", PNG))
    Resource.objects.filter(pk=resource.pk).update(file_name="evil.html")  # the name shown cannot change the type
    response = acme_client.get(portal_url("download", resource.pk))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("key", ["globex", "draft"])
@pytest.mark.parametrize("name", ["resource", "download"])
@pytest.mark.parametrize("method", ["get", "head", "post", "put", "delete"])
def test_outside_the_audience_is_a_404_on_every_verb(acme_client, library, key, name, method):
    resource = library[key]
    before = Resource.objects.get(pk=resource.pk).download_count
    response = getattr(acme_client, method)(portal_url(name, resource.pk))
    assert response.status_code == 404
    missing = getattr(acme_client, method)(portal_url(name, 999999))
    assert missing.status_code == 404
    assert Resource.objects.get(pk=resource.pk).download_count == before


def test_a_visible_resource_answers_other_verbs_with_405(acme_client, library):
    assert acme_client.post(portal_url("resource", library["all"].pk)).status_code == 405
    assert acme_client.post(portal_url("download", library["gold"].pk)).status_code == 405
    assert acme_client.get(portal_url("download", library["all"].pk)).status_code == 404  # an article: no file


def test_the_other_partner_sees_its_own(globex_client, library):
    assert globex_client.get(portal_url("download", library["globex"].pk)).status_code == 200
    assert globex_client.get(portal_url("resource", library["gold"].pk)).status_code == 404


def test_staff_and_anonymous_users_do_not_get_the_portal_library(client, rep_client, library):
    assert rep_client.get(LIBRARY).status_code == 404
    client.logout()
    response = client.get(portal_url("download", library["gold"].pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Staff pages --------------------------------------------------------------------------------------------------------


STAFF = "/library/"


def test_reps_without_view_all_and_partner_users_get_404(rep_client, library):
    for url in (STAFF, "/library/new/", f"/library/{library['all'].pk}/", "/library/categories/", "/library/tags/"):
        assert rep_client.get(url).status_code == 404
    assert rep_client.post(f"/library/{library['draft'].pk}/publish/").status_code == 404
    assert not Resource.objects.get(pk=library["draft"].pk).published


def test_partner_users_never_reach_the_staff_library(acme_client, library):
    assert acme_client.get(STAFF).status_code == 404
    assert acme_client.get(f"/library/{library['gold'].pk}/download/").status_code == 404


def test_the_staff_list(manager_client, library, django_assert_num_queries):
    for n in range(12):
        make_resource(library["all"].category, title=f"Staff extra {n}", tags=list(Tag.objects.all()))
    # session, user, the manager check, the filter form's categories and tags, a page of resources (category,
    # parent), their tags
    with django_assert_num_queries(7):
        response = manager_client.get(STAFF)
    html = response.content.decode()
    assert "Unfinished" in html and "Globex price list" in html  # staff see everything
    response = manager_client.get(STAFF, {"state": "draft", "q": "unfinished"})
    assert "Unfinished" in response.content.decode() and "Partner handbook" not in response.content.decode()


def test_staff_upload_publish_and_audience(manager_client, manager, shelf, acme, acme_admin, globex):
    sales = shelf[0]
    response = manager_client.post("/library/new/", {
        "kind": "file", "title": "Price list 2027", "description": "<b>new</b> prices", "category": sales.pk,
        "version": "1", "file": upload("prices.pdf", PDF), "tiers": [factories.tier("Gold").pk],
        "partner_codes": globex.code, "publish": "1",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = Resource.objects.get(title="Price list 2027")
    assert resource.published and resource.created_by == manager and not resource.to_all
    assert set(resource.partners.all()) == {globex} and [t.name for t in resource.tiers.all()] == ["Gold"]
    assert set(PortalEvent.objects.values_list("partner_id", flat=True)) == {acme.pk, globex.pk}
    assert Notification.objects.filter(recipient=acme_admin.user).exists()
    page = manager_client.get(response["Location"])
    assert "Published to 2 partners" in page.content.decode()
    # unpublish hides it from acme at once
    assert manager_client.post(f"/library/{resource.pk}/unpublish/").status_code == 302
    resource.refresh_from_db()
    assert not resource.published


def test_staff_upload_refuses_a_fake_extension_and_an_oversized_file(manager_client, shelf, settings):
    data = {"kind": "file", "title": "Fake", "category": shelf[0].pk, "to_all": "on"}
    response = manager_client.post("/library/new/", {**data, "file": upload("fake.pdf", PNG)})
    assert response.status_code == 400
    assert "not a PDF document" in response.content.decode()
    settings.LIBRARY_MAX_BYTES = 10
    response = manager_client.post("/library/new/", {**data, "file": upload("big.pdf", PDF)})
    assert response.status_code == 400 and "the limit is 10 bytes" in response.content.decode()
    assert not Resource.objects.exists()


def test_staff_categories_refuse_a_third_level(manager_client, shelf):
    sales, playbooks = shelf
    response = manager_client.post("/library/categories/", {"name": "Third", "parent": playbooks.pk, "order": 0})
    # the form offers top categories only; a forged subcategory id is refused
    assert response.status_code == 400
    assert not Category.objects.filter(name="Third").exists()
    response = manager_client.post("/library/categories/", {"name": "Partner <b>kit</b>", "parent": sales.pk})
    assert response.status_code == 302
    html = manager_client.get("/library/categories/").content.decode()
    assert "Partner &lt;b&gt;kit&lt;/b&gt;" in html
    response = manager_client.post(f"/library/categories/{sales.pk}/", {"name": "Sales", "parent": ""})
    assert response.status_code == 302


def test_staff_tags(manager_client):
    response = manager_client.post("/library/tags/", {"kind": "industry", "name": "Retail"})
    assert response.status_code == 302
    response = manager_client.post("/library/tags/", {"kind": "industry", "name": "retail"})
    assert response.status_code == 400 and "already exists" in response.content.decode()
    tag = Tag.objects.get()
    assert manager_client.post(f"/library/tags/{tag.pk}/delete/").status_code == 302
    assert not Tag.objects.exists()


def test_individual_partners_and_kinds_in_the_form(manager_client, shelf):
    response = manager_client.post("/library/new/", {
        "kind": "link", "title": "For individuals", "category": shelf[0].pk, "url": "javascript:alert(1)",
        "kinds": [Partner.Kind.INDIVIDUAL],
    })
    assert response.status_code == 400 and "https://" in response.content.decode()
    response = manager_client.post("/library/new/", {
        "kind": "link", "title": "For individuals", "category": shelf[0].pk, "url": "https://example.com/x",
        "kinds": [Partner.Kind.INDIVIDUAL], "partner_codes": "NOPE-1",
    })
    assert response.status_code == 400 and "No partner has the code NOPE-1" in response.content.decode()


def test_a_request_far_over_the_limit_is_refused_before_reading_it(manager_client, shelf, settings):
    settings.LIBRARY_MAX_BYTES = 10
    response = manager_client.post("/library/new/", {
        "kind": "file", "title": "Huge", "category": shelf[0].pk, "to_all": "on",
        "file": upload("huge.pdf", PDF + b"0" * (1024 * 1024 + 100)),
    })
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not Resource.objects.exists()


def test_managers_find_the_library_in_their_menu(manager_client, rep):
    from django.test import Client

    assert 'href="/library/"' in manager_client.get("/library/tags/").content.decode()
    other = Client()
    other.force_login(rep)
    assert 'href="/library/"' not in other.get("/today/").content.decode()


def test_the_admin_lists_and_views_but_never_writes(admin_client, library):
    resource = library["gold"]
    assert admin_client.get("/admin/library/resource/").status_code == 200
    assert admin_client.get(f"/admin/library/resource/{resource.pk}/change/").status_code == 200
    assert admin_client.get("/admin/library/category/").status_code == 200
    assert admin_client.get("/admin/library/tag/").status_code == 200
    assert admin_client.get("/admin/library/resource/add/").status_code == 403
    assert admin_client.post(f"/admin/library/resource/{resource.pk}/delete/").status_code == 403
