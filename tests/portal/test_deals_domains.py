"""portal.domains: what people type becomes one normal form; anything else is a ValueError, never another error."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domains import (
    email_domain,
    is_public_mail_domain,
    normalise_domain,
    parent_domains,
    reversed_domain,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("http://WWW.Example.COM/path", "example.com"),
    ("example.com", "example.com"),
    ("  Example.com.  ", "example.com"),
    ("https://sales.example.com:8443/a?b#c", "sales.example.com"),
    ("www.example.co.uk", "example.co.uk"),
    ("Sales@Example.com", "example.com"),
    ("mailto:ceo@Sub.Example.org", "sub.example.org"),
    ("ftp://user:secret@files.example.net/x", "files.example.net"),
    ("bücher.de", "xn--bcher-kva.de"),
    ("http://BÜCHER.de/", "xn--bcher-kva.de"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("example。com", "example.com"),
    ("www.com", "www.com"),
])
def test_normalise(text, expected):
    assert normalise_domain(text) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "localhost", "http://", "1.2.3.4", "http://10.0.0.1/x", "[::1]", "http://[::1]:80/",
    "exa mple.com", "a..b.com", "-bad.com", "bad-.com", "under_score.com", "<script>.com", "x" * 64 + ".com",
    ("a." * 130) + "com", "x" * 3000, "@", "mailto:", "é" * 80 + ".de",
])
def test_garbage_is_refused_with_a_message(text):
    with pytest.raises(ValueError, match=r"\w") as error:
        normalise_domain(text)
    assert type(error.value) is ValueError
    assert len(str(error.value)) < 200


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=300),
    st.from_regex(r"\A(https?://)?(www\.)?[a-zA-Z0-9.\-ü]{0,70}(:\d{1,5})?(/.{0,20})?\Z"),
    st.emails().map(str),
))
def test_fuzz_only_value_error(text):
    try:
        result = normalise_domain(text)
    except ValueError:
        return
    assert result == normalise_domain(result)  # the normal form is a fixed point
    assert result.isascii() and result == result.lower() and len(result) <= 253
    assert "." in result


def test_parent_domains_stop_at_public_suffixes():
    assert parent_domains("a.sales.example.com") == ["a.sales.example.com", "sales.example.com", "example.com"]
    assert parent_domains("shop.example.co.uk") == ["shop.example.co.uk", "example.co.uk"]
    assert parent_domains("example.com") == ["example.com"]


def test_reversed_is_postgresqls_reverse():
    assert reversed_domain("sales.example.com") == "moc.elpmaxe.selas"


def test_public_mail_domains():
    assert is_public_mail_domain("gmail.com") and is_public_mail_domain("mail.yahoo.com")
    assert not is_public_mail_domain("example.com")
    assert email_domain("Bob@GMAIL.com") == ""
    assert email_domain("bob@Sales.Example.com") == "sales.example.com"
    assert email_domain("no address") == "" and email_domain("x@-bad-") == ""
