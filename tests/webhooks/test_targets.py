"""The SSRF guard (webhooks.targets): which URLs may receive webhooks, and where a delivery connects."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhooks import targets


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://localhost:8000/hook",  # a name that resolves to loopback
    "http://10.0.0.5/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[::ffff:10.0.0.1]/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as one number: the resolver's answer is what is checked
    "http://0x7f000001/hook",
])
def test_private_loopback_link_local_and_reserved_targets_are_refused(url):
    with pytest.raises(targets.UnsafeTarget, match="public addresses"):
        targets.check(url, allow_private=False)
    assert targets.check(url, allow_private=True) == []  # the admin setting lifts the address rule


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.com/hook", "https://"),
    ("file:///etc/passwd", "https://"),
    ("javascript:alert(1)", "https://"),
    ("https://user:pw@example.com/hook", "no user name or password"),
    ("https:///hook", "no host"),
    ("https://example.com:99999/hook", "valid port"),
    ("https://exa mple.com/hook", "spaces"),
    ("https://example.com/hook#x", "fragment"),
    ("https://example.com/" + "a" * 500, "500 characters"),
])
def test_url_shape_is_checked_even_when_private_targets_are_allowed(url, message):
    with pytest.raises(targets.UnsafeTarget, match=message):
        targets.check(url, allow_private=True)


def test_a_host_that_does_not_resolve_is_refused():
    with pytest.raises(targets.UnsafeTarget, match="does not resolve"):
        targets.check("https://no-such-host.invalid/hook", allow_private=False)


def test_public_addresses_pass_and_the_request_is_pinned_to_the_checked_address():
    assert targets.is_public(ipaddress.ip_address("93.184.216.34"))
    assert targets.check("https://93.184.216.34/hook", allow_private=False) == [ipaddress.ip_address("93.184.216.34")]
    pinned = targets.target("https://93.184.216.34:8443/hook?x=1", allow_private=False)
    assert pinned.url == "https://93.184.216.34:8443/hook?x=1"
    assert pinned.host_header == "93.184.216.34:8443" and pinned.sni_hostname == "93.184.216.34"
    v6 = targets.target("http://[2606:2800:220:1:248:1893:25c8:1946]/h", allow_private=False)
    assert v6.url == "http://[2606:2800:220:1:248:1893:25c8:1946]/h" and v6.sni_hostname is None


def test_with_private_targets_allowed_the_url_is_used_as_it_is():
    plain = targets.target("http://localhost:9/hook", allow_private=True)
    assert plain == targets.Target(url="http://localhost:9/hook", host_header=None, sni_hostname=None)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.builds(lambda host, rest: f"https://{host}/{rest}", st.text(), st.text())))
def test_any_text_is_a_url_or_a_clear_refusal(text):
    """Whatever is typed, the guard answers with the URL or an UnsafeTarget (never another exception: no 500)."""
    try:
        url = targets.validate_url(text)
        targets.check(url, allow_private=True)
    except targets.UnsafeTarget as refused:
        assert str(refused)
