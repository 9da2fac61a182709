"""library.services: categories no deeper than one subcategory, tags, resources of each kind with their file checks
(extension AND content, size), the search document written with the row, and publishing telling the audience
(feed events in one INSERT … SELECT, notifications for a small audience only)."""

from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from library import services
from library.markdown import render_markdown
from library.models import Category, Resource, Tag
from notifications.models import Notification
from partners.models import Partner
from portal.models import PortalEvent
from tests import factories
from tests.library.conftest import PDF, PNG, make_resource, mp4, office, upload
from tests.portal.conftest import make_member

pytestmark = pytest.mark.django_db


# --- Categories ---------------------------------------------------------------------------------------------------------


def test_a_subcategory_of_a_subcategory_is_refused(shelf):
    sales, playbooks = shelf
    with pytest.raises(ValidationError) as error:
        services.category_save(category=None, name="Third level", parent=playbooks)
    assert "one level deep" in error.value.message_dict["parent"][0]
    assert not Category.objects.filter(name="Third level").exists()


def test_a_category_with_subcategories_cannot_move_under_another(shelf):
    sales, _playbooks = shelf
    marketing = services.category_save(category=None, name="Marketing")
    with pytest.raises(ValidationError) as error:
        services.category_save(category=sales, name="Sales", parent=marketing)
    assert "has subcategories" in error.value.message_dict["parent"][0]
    sales.refresh_from_db()
    assert sales.parent_id is None


def test_a_category_is_not_its_own_parent_and_names_are_unique_among_siblings(shelf):
    sales, _ = shelf
    with pytest.raises(ValidationError) as error:
        services.category_save(category=sales, name="Sales", parent=sales)
    assert "own parent" in error.value.message_dict["parent"][0]
    with pytest.raises(ValidationError) as error:
        services.category_save(category=None, name="  playbooks ", parent=sales)
    assert "already there" in error.value.message_dict["name"][0]
    # the same name under another parent, or at the top, is fine
    assert services.category_save(category=None, name="Playbooks").parent_id is None


def test_a_bad_order_is_a_field_error(db):
    with pytest.raises(ValidationError) as error:
        services.category_save(category=None, name="Odd", order="x")
    assert "order" in error.value.message_dict


def test_a_leaf_category_moves_and_an_empty_one_is_deleted(shelf):
    sales, playbooks = shelf
    marketing = services.category_save(category=None, name="Marketing")
    moved = services.category_save(category=playbooks, name="Playbooks", parent=marketing)
    assert moved.parent_id == marketing.pk
    make_resource(moved)
    with pytest.raises(ValidationError, match="holds resources"):
        services.category_delete(category=moved)
    with pytest.raises(ValidationError, match="subcategories"):
        services.category_delete(category=marketing)
    services.category_delete(category=sales)
    assert not Category.objects.filter(pk=sales.pk).exists()


def test_tags_are_unique_per_kind(db):
    services.tag_save(tag=None, kind=Tag.Kind.INDUSTRY, name="Retail")
    services.tag_save(tag=None, kind=Tag.Kind.DOCUMENT_TYPE, name="Retail")
    with pytest.raises(ValidationError, match="already exists"):
        services.tag_save(tag=None, kind=Tag.Kind.INDUSTRY, name="retail")
    with pytest.raises(ValidationError):
        services.tag_save(tag=None, kind="colour", name="Red")


# --- Resources ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "served_as"), [
    ("guide.pdf", PDF, "application/pdf"),
    ("logo.png", PNG, "image/png"),
    ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg"),
    ("notes.txt", b"plain words\n", "text/plain; charset=utf-8"),
    ("list.csv", b"a,b\n1,2\n", "text/csv; charset=utf-8"),
    ("brief.docx", office("word/document.xml"), "application/vnd.openxmlformats-officedocument.wordprocessingml"
                                                ".document"),
    ("plan.xlsx", office("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("deck.pptx", office("ppt/presentation.xml"), "application/vnd.openxmlformats-officedocument.presentationml"
                                                  ".presentation"),
    ("demo.mp4", mp4(), "video/mp4"),
])
def test_files_of_each_allowed_type_are_stored_under_a_random_name(shelf, name, content, served_as):
    from library.resource_files import content_type_for

    resource = make_resource(shelf[0], kind=Resource.Kind.FILE, upload=upload(name, content))
    assert resource.file_name == name
    assert resource.file_size == len(content)
    assert resource.file.name.startswith("library/")
    assert name.rsplit(".", 1)[0] not in resource.file.name  # random, not the uploaded name
    assert default_storage.exists(resource.file.name)
    assert content_type_for(resource.file.name) == served_as


@pytest.mark.parametrize(("name", "content", "message"), [
    ("guide.pdf", PNG, "not a PDF document"),  # a fake extension
    ("guide.pdf", b"<html><script>alert(1)</script></html>", "not a PDF document (it looks like a web page"),
    ("notes.txt", b"<!doctype html><p>hi", "not a text file"),
    ("deck.pptx", office("word/document.xml"), "not a PowerPoint presentation"),
    ("demo.mp4", PDF, "not a MP4 video"),
    ("page.html", b"<p>hi</p>", "Files of type .html are not accepted"),
    ("logo.svg", b"<svg/>", "Files of type .svg are not accepted"),
    ("macro.docm", office("word/document.xml"), "Files of type .docm are not accepted"),
    ("README", b"hello", "has no file type"),
    ("empty.pdf", b"", "The file is empty"),
])
def test_refused_files_write_nothing(shelf, media_root, name, content, message):
    with pytest.raises(ValidationError) as error:
        make_resource(shelf[0], kind=Resource.Kind.FILE, upload=upload(name, content))
    assert message in error.value.message_dict["file"][0]
    assert not Resource.objects.exists()
    assert not list(media_root.rglob("*.*")) if media_root.exists() else True


def test_an_oversized_file_is_refused(shelf, settings):
    settings.LIBRARY_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as error:
        make_resource(shelf[0], kind=Resource.Kind.FILE, upload=upload("big.pdf", PDF + b"x" * 2000))
    assert "the limit is 1000 bytes" in error.value.message_dict["file"][0]
    assert not Resource.objects.exists()


def test_the_default_size_limit_is_25_mb():
    from django.conf import settings

    assert settings.LIBRARY_MAX_BYTES == 25 * 1024 * 1024


def test_replacing_a_file_deletes_the_old_one_after_commit(shelf, django_capture_on_commit_callbacks):
    resource = make_resource(shelf[0], kind=Resource.Kind.FILE)
    old = resource.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.resource_save(resource=resource, by=None, kind=Resource.Kind.FILE, title=resource.title,
                               category=resource.category, upload=upload("v2.pdf", PDF + b"% v2"))
    resource.refresh_from_db()
    assert resource.file_name == "v2.pdf" and resource.file.name != old
    assert default_storage.exists(resource.file.name) and not default_storage.exists(old)


@pytest.mark.parametrize(("kind", "fields", "field", "message"), [
    (Resource.Kind.LINK, {"url": "javascript:alert(1)"}, "url", "https://"),
    (Resource.Kind.VIDEO, {"url": "ftp://example.com/x.mp4"}, "url", "https://"),
    (Resource.Kind.LINK, {"url": ""}, "url", "Enter the web address"),
    (Resource.Kind.ARTICLE, {"body": ""}, "body", "Write the article"),
    (Resource.Kind.FILE, {}, "file", "Choose the file"),
    (Resource.Kind.ARTICLE, {"body": "x", "title": "t" * 201}, "title", "200 characters"),
    (Resource.Kind.ARTICLE, {"body": "x", "to_all": False}, "to_all", "Choose who sees it"),
    (Resource.Kind.ARTICLE, {"body": "x", "kinds": ["robot"]}, "kinds", "Unknown"),
])
def test_bad_input_names_the_field(shelf, kind, fields, field, message):
    kwargs = {"title": "A title", **fields}
    if kind == Resource.Kind.FILE:
        kwargs["upload"] = None
    with pytest.raises(ValidationError) as error:
        services.resource_save(resource=None, by=None, kind=kind, category=shelf[0], **kwargs)
    assert message in error.value.message_dict[field][0]
    assert not Resource.objects.exists()


def test_the_search_document_is_written_with_the_row_and_weighted(shelf):
    resource = make_resource(shelf[0], title="Rebate programme", description="quarterly incentives",
                             body="# Heading\n\nThe **payout** <script>x</script> schedule")
    with connection.cursor() as cursor:
        cursor.execute("SELECT search::text FROM library_resource WHERE id = %s", [resource.pk])
        document = cursor.fetchone()[0]
    assert "'rebat':1A" in document
    assert "'quarter':2B" in document or "'quarter'" in document and "B" in document
    assert "'payout'" in document and "C" in document
    assert "**" not in document  # the article's words, not its Markdown
    # changing the title rewrites it in the same UPDATE
    services.resource_save(resource=resource, by=None, kind=Resource.Kind.ARTICLE, title="Marketing funds",
                           category=shelf[0], body=resource.body, description="")
    with connection.cursor() as cursor:
        cursor.execute("SELECT search::text FROM library_resource WHERE id = %s", [resource.pk])
        document = cursor.fetchone()[0]
    assert "'fund':2A" in document and "rebat" not in document


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.urls = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.urls += [value for name, value in attrs if name in ("href", "src")]


def test_markdown_with_script_iframe_and_javascript_links_is_stripped():
    html = str(render_markdown(
        "Hello <script>alert(1)</script> <iframe src='https://evil.example'></iframe>\n\n"
        "[click](javascript:alert(1)) [ok](https://example.com) <a href=\"javascript:x\">raw</a>\n\n"
        "![img](javascript:alert(2))"
    ))
    assert "<script" not in html and "<iframe" not in html
    parser = _Links()
    parser.feed(html)
    assert parser.tags <= {"p", "a"}  # the raw HTML is shown as text (&lt;script&gt;), never as elements
    assert parser.urls == ["https://example.com"]  # the javascript: links and image are not links at all
    assert 'href="https://example.com"' in html
    assert 'rel="noopener noreferrer"' in html


# --- Publishing tells the audience --------------------------------------------------------------------------------------


def test_publishing_records_one_feed_event_per_partner_of_the_audience_in_one_statement(shelf, acme, globex, acme_admin,
                                                                                         acme_member, globex_admin):
    gold_extra = factories.PartnerFactory(tier=factories.tier("Gold"))
    individual = factories.PartnerFactory(tier=factories.tier("Platinum"), kind=Partner.Kind.INDIVIDUAL)
    draft = make_resource(shelf[0], title="Gold price list", publish=False, tiers=[factories.tier("Gold")],
                          kinds=[Partner.Kind.INDIVIDUAL], to_all=False)
    assert not PortalEvent.objects.exists()
    with CaptureQueriesContext(connection) as queries:
        told = services.resource_publish(resource=draft, by=None)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "portal_portalevent"')]
    assert len(inserts) == 1 and "SELECT" in inserts[0]  # set-based: INSERT … SELECT, not one row per partner
    assert told.partners == 3
    events = PortalEvent.objects.filter(kind=PortalEvent.Kind.RESOURCE)
    assert set(events.values_list("partner_id", flat=True)) == {acme.pk, gold_extra.pk, individual.pk}
    assert events.first().link == f"/portal/library/r/{draft.pk}/"
    assert "Gold price list" in events.first().title
    # acme's two users are notified (in the app, and by email as they have an address); globex is not in it
    notified = set(Notification.objects.values_list("recipient_id", flat=True))
    assert notified == {acme_admin.user_id, acme_member.user_id}
    assert told.notified and told.recipients == 2
    # publishing again does nothing; unpublish + publish of the same version tells nobody twice
    assert services.resource_publish(resource=draft, by=None) is None
    services.resource_unpublish(resource=draft, by=None)
    told = services.resource_publish(resource=draft, by=None)
    assert told.partners == 0
    assert PortalEvent.objects.count() == 3 and Notification.objects.count() == 2


def test_a_new_version_of_a_published_resource_tells_the_audience_again(shelf, acme, acme_admin):
    resource = make_resource(shelf[0], title="Price list", version="1")
    assert PortalEvent.objects.filter(partner=acme).count() == 1
    services.resource_save(resource=resource, by=None, kind=Resource.Kind.ARTICLE, title="Price list",
                           category=shelf[0], body="# Prices", version="1")  # same version: nothing new
    assert PortalEvent.objects.filter(partner=acme).count() == 1
    saved = services.resource_save(resource=resource, by=None, kind=Resource.Kind.ARTICLE, title="Price list",
                                   category=shelf[0], body="# Prices", version="2")
    assert saved.told is not None and saved.told.partners >= 1
    assert list(PortalEvent.objects.filter(partner=acme).order_by("id").values_list("source_key", flat=True)) == [
        f"resource:{resource.pk}:1", f"resource:{resource.pk}:2"]
    assert Notification.objects.filter(recipient=acme_admin.user).count() == 2


def test_a_large_audience_gets_the_feed_only(shelf, acme, acme_admin, acme_member, settings):
    settings.LIBRARY_NOTIFY_MAX_RECIPIENTS = 1
    told = make_resource(shelf[0], publish=False)
    told = services.resource_publish(resource=told, by=None)
    assert not told.notified and told.recipients == 2
    assert PortalEvent.objects.filter(partner=acme).exists()
    assert not Notification.objects.exists()


def test_an_unpublished_resource_tells_nobody(shelf, acme, acme_admin):
    make_resource(shelf[0], publish=False)
    assert not PortalEvent.objects.exists() and not Notification.objects.exists()


def test_downloads_are_counted_in_the_database(shelf):
    resource = make_resource(shelf[0], kind=Resource.Kind.FILE)
    stale = Resource.objects.get(pk=resource.pk)
    services.resource_downloaded(resource=resource)
    services.resource_downloaded(resource=stale)  # a stale copy does not lose the other count
    resource.refresh_from_db()
    assert resource.download_count == 2


def test_make_member_helper_is_shared(acme):
    assert make_member(acme, username="someone").partner_id == acme.pk
