"""Markdown written by staff (articles, content pages), rendered to HTML that is safe to put in a page.

markdown-it-py renders CommonMark with raw HTML switched off (``<script>`` and ``<iframe>`` come out as text);
nh3 (the Rust ``ammonia`` sanitiser) then keeps only the tags and attributes below, and links whose scheme is
http, https or mailto: a ``javascript:`` link loses its href. Both steps, because either alone trusts the other's
edge cases. Links open with ``rel="noopener noreferrer"``.
"""

from html import unescape

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> Markup:
    """``text`` (Markdown) as sanitised HTML."""
    html = _MD.render(text or "")
    clean = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES, link_rel="noopener noreferrer")
    return Markup(clean)  # noqa: S704 (sanitised by nh3 just above)


def plain_text(text: str) -> str:
    """The words of ``text`` without markup (search documents, previews)."""
    return unescape(nh3.clean(_MD.render(text or ""), tags=set())).strip()
