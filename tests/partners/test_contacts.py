"""partners.contacts: quick-action rules and the one rule for links made from stored values."""

import pytest
from django.urls import reverse

from partners.contacts import quick_actions, safe_href
from partners.models import Partner
from tests import factories


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>", "vbscript:msgbox", "file:///etc/passwd", "//evil.example/x",
        "https:", "http://", "ftp://example.com", "wa.me/123", "\x00https://example.com", "https://exa mple.com\n",
        "", None, 42,
    ],
)
def test_unsafe_or_odd_values_are_no_links(value):
    assert safe_href(value) == ""


@pytest.mark.parametrize(
    "value",
    ["https://example.com/a?b=1", "http://example.com", "HTTPS://EXAMPLE.COM", "mailto:a@example.com",
     "tel:+919845012345", "sms:+919845012345", "https://wa.me/919845012345"],
)
def test_safe_links_pass(value):
    assert safe_href(value) == value


def test_quick_actions_prefer_the_kinds_in_order():
    actions = quick_actions({"phone": "+91 80 1234 5678", "mobile": "+91 98450 12345", "email": "a@b.example"}, None)
    assert [(a.action, a.href) for a in actions] == [
        ("call", "tel:+919845012345"), ("sms", "sms:+919845012345"), ("whatsapp", "https://wa.me/919845012345"),
        ("email", "mailto:a@b.example"),
    ]


@pytest.mark.django_db
def test_a_url_profile_value_saved_as_text_never_becomes_a_live_link(rep_client, rep):
    """A field that was text when the value was saved and is a URL field now: validated again when rendered."""
    field = factories.ProfileFieldFactory(key="site", label="Shop site", kind="text")
    partner = factories.PartnerFactory(assigned_to=rep, website="https://ok.example")
    Partner.objects.filter(pk=partner.pk).update(profile={"site": "javascript:alert(document.cookie)"})
    field.kind = "url"
    field.save()
    html = rep_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    assert 'href="javascript' not in html.lower()
    assert "javascript:alert(document.cookie)" in html  # shown as text
    assert 'href="https://ok.example"' in html
