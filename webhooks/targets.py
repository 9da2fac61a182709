"""Where a webhook may be sent (the SSRF guard), checked when an endpoint is saved and again at every delivery.

A URL is refused unless it is ``http``/``https`` with a host, no user or password, a valid port, and every address
the host resolves to is public: not private, loopback, link-local, shared (100.64/10), multicast, reserved or
unspecified (Python's ``ipaddress``: ``is_global`` and not multicast; an IPv4-mapped IPv6 address is judged as its
IPv4 address). ``WEBHOOKS_ALLOW_PRIVATE_TARGETS=True`` lifts the address rule (a receiver on the same network; the
tests' receiver on 127.0.0.1); the URL rules stay.

At delivery the host is resolved once per batch, checked, and the request goes to the checked address itself
(``pin``: the URL's host replaced by the address, the ``Host`` header and TLS server name kept as the original host,
so certificates are still verified against the name). A name that resolved to a public address when the endpoint was
saved and to 127.0.0.1 later (DNS rebinding) is therefore refused, and the connection can never go somewhere other
than the address that was checked. Redirects are never followed (webhooks.sender), so a public host cannot bounce a
delivery inward either.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

URL_MAX_LENGTH = 500
SCHEMES = ("http", "https")


class UnsafeTarget(ValueError):
    """The URL may not receive webhooks; the message says why, for the form and the delivery log."""


@dataclass(frozen=True, slots=True)
class Target:
    url: str  # what to request: the original URL, or with its host replaced by the checked address
    host_header: str | None  # the original host[:port] when pinned
    sni_hostname: str | None  # the original host for TLS when pinned to an address of an https URL


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parts(url: str):
    if len(url) > URL_MAX_LENGTH:
        raise UnsafeTarget(f"Keep the URL to {URL_MAX_LENGTH} characters (it has {len(url)}).")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("Enter a valid URL with a valid port.") from None
    if parts.scheme not in SCHEMES:
        raise UnsafeTarget("The URL must start with https:// (or http://).")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Put no user name or password in the URL: the signature authenticates each delivery.")
    if any(character.isspace() for character in url):
        raise UnsafeTarget("The URL must not contain spaces.")
    if parts.fragment:
        raise UnsafeTarget("The URL must not have a #fragment.")
    return parts, port or (443 if parts.scheme == "https" else 80)


def validate_url(url: str) -> str:
    """The URL's shape only (scheme, host, no credentials); returns it stripped. UnsafeTarget if wrong."""
    url = (url or "").strip()
    if not url:
        raise UnsafeTarget("Enter the URL that receives the webhooks (https://…).")
    _parts(url)
    return url


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (an IP literal is itself). UnsafeTarget when it does not resolve."""
    try:
        return [ipaddress.ip_address(host.strip("[]").split("%")[0])]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeTarget(f"The host {host} does not resolve.") from None
    found = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in found:
            found.append(address)
    if not found:
        raise UnsafeTarget(f"The host {host} does not resolve.")
    return found


def check(url: str, *, allow_private: bool) -> list[Address]:
    """Refuse ``url`` (UnsafeTarget) unless its shape is right and — without ``allow_private`` — every address its
    host resolves to is public. Returns the addresses (empty with ``allow_private``: nothing was resolved)."""
    parts, port = _parts(url)
    if allow_private:
        return []
    addresses = resolve(parts.hostname, port)
    refused = [address for address in addresses if not is_public(address)]
    if refused:
        raise UnsafeTarget(
            f"{parts.hostname} resolves to {refused[0]}, a private, loopback, link-local or reserved address: "
            "webhooks go only to public addresses (an admin can allow private ones with "
            "WEBHOOKS_ALLOW_PRIVATE_TARGETS)."
        )
    return addresses


def target(url: str, *, allow_private: bool) -> Target:
    """What to request for ``url`` right now: checked as ``check`` does, and pinned to the first checked address."""
    addresses = check(url, allow_private=allow_private)
    if not addresses:
        return Target(url=url, host_header=None, sni_hostname=None)
    parts, _port = _parts(url)
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal + (f":{parts.port}" if parts.port else "")
    pinned = parts._replace(netloc=netloc).geturl()
    return Target(url=pinned, host_header=parts.netloc,
                  sni_hostname=parts.hostname if parts.scheme == "https" else None)
