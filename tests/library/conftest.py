"""Fixtures of the resource library's tests: the portal's two partner organisations (tests/portal/conftest.py: acme,
Gold, and globex, Silver, with their users), uploaded files in a temporary MEDIA_ROOT, a small library built through
``library.services`` and helpers to make files of each type."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from library import services
from library.models import Category, Resource, Tag
from tests.portal.conftest import *  # noqa: F403 (acme, globex, their members and clients)

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def office(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


def mp4() -> bytes:
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def shelf(db):
    """A top category "Sales" with a subcategory "Playbooks"."""
    sales = services.category_save(category=None, name="Sales")
    playbooks = services.category_save(category=None, name="Playbooks", parent=sales)
    return sales, playbooks


def make_resource(category: Category, *, title="Deal registration guide", kind=Resource.Kind.ARTICLE, body="# Hi",
                  publish=True, by=None, **kwargs) -> Resource:
    if kind == Resource.Kind.FILE and "upload" not in kwargs:
        kwargs["upload"] = upload("guide.pdf", PDF)
    if kind in (Resource.Kind.LINK, Resource.Kind.VIDEO) and "url" not in kwargs:
        kwargs["url"] = "https://example.com/video"
    return services.resource_save(resource=None, by=by, kind=kind, title=title, category=category,
                                  body=body if kind == Resource.Kind.ARTICLE else "", publish=publish,
                                  **kwargs).resource


@pytest.fixture
def tag(db):
    return services.tag_save(tag=None, kind=Tag.Kind.PROGRAM_STEP, name="Deal registration")
