"""Writes of content pages (the only code that writes ``ContentPage``): staff write them in Markdown, rendered
sanitised (``library.markdown.render_markdown``) when shown; which page a partner sees is
``library.onboarding_selectors.pages_for``."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from library.models import ContentPage
from partners.models import Partner, Tier


@transaction.atomic
def content_page_save(
    *, page: ContentPage | None, by: AbstractBaseUser | None, kind: str, title: str, body: str,
    tier: Tier | None = None, partner_kind: str = "", order: int = 0, published: bool = True,
) -> ContentPage:
    """Create (``page`` None) or update a content page; ValidationError naming the field on bad input."""
    page = page or ContentPage()
    page.kind = kind
    page.title = (title or "").strip()
    page.body = (body or "").strip()
    page.tier = tier
    page.partner_kind = partner_kind or ""
    page.order = order or 0
    page.published = bool(published)
    if page.partner_kind and page.partner_kind not in Partner.Kind.values:
        raise ValidationError({"partner_kind": "Choose a partner kind from the list."})
    page.full_clean()
    page.save()
    return page
