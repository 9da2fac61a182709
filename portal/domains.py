"""Web domains of deal registrations: one normal form, so that "http://WWW.Example.COM/path", "example.com" and
"sales@example.com" are the same prospect to the conflict check (portal.conflicts).

Decisions:
- ``normalise_domain`` takes what people type (a URL, a bare host, an email address) and returns the host in lower
  case, without scheme, user, port, path, trailing dot or a leading "www.", internationalised names as their ASCII
  (IDNA, "xn--…") form. Anything that is not a plausible public host name (an IP address, one label, a label longer
  than 63 characters, characters a host cannot have) is a ``ValueError`` with a message a form can show; nothing else
  is ever raised (tests/portal/test_deals_domains.py fuzzes it).
- Stored and indexed reversed character by character (``reverse()`` in PostgreSQL: "moc.elpmaxe"), so that "a
  subdomain of example.com" is the prefix "moc.elpmaxe." (see leads/migrations/0005 and ``reversed_domain``).
- Public mail domains (gmail.com, …) never make a conflict: thousands of unrelated people write from them.
"""

import re

MAX_INPUT = 2000  # characters of raw input looked at (a URL longer than this is not a web domain)
MAX_DOMAIN = 253

# Mail services anyone may use: a prospect "at gmail.com" says nothing about which company it is.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.co.in", "yahoo.fr", "yahoo.de", "ymail.com",
    "hotmail.com", "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com",
    "me.com", "mac.com", "gmx.de", "gmx.net", "gmx.com", "web.de", "t-online.de", "mail.com", "mail.ru", "yandex.ru",
    "yandex.com", "proton.me", "protonmail.com", "zoho.com", "qq.com", "163.com", "126.com", "rediffmail.com",
    "orange.fr", "free.fr", "laposte.net", "libero.it", "btinternet.com", "comcast.net", "fastmail.com",
})

# Second-level public suffixes common among our prospects: never a "parent domain" of a prospect (every company in
# the United Kingdom is under co.uk). Not the whole Public Suffix List: a parent that is a public suffix only matters
# when someone registered the bare suffix itself, which normalise_domain allows but nobody does.
PUBLIC_SUFFIXES = frozenset({
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "com.au", "net.au", "org.au", "co.nz",
    "co.in", "net.in", "org.in", "firm.in", "gen.in", "ind.in", "co.jp", "ne.jp", "or.jp", "co.kr", "com.br",
    "com.cn", "com.hk", "com.sg", "com.my", "com.mx", "com.ar", "com.tr", "co.za", "com.tw", "co.id", "co.th",
    "com.pl", "com.es", "co.il", "com.ua", "com.vn", "com.ph", "com.pk", "com.sa", "com.eg", "com.ng",
})

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})  # the ideographic full stops IDNA treats as "."


def normalise_domain(text: str) -> str:
    """The normal form of a web domain, URL or email address ("http://WWW.Example.COM/path" → "example.com",
    "Sales@Example.com" → "example.com", "bücher.de" → "xn--bcher-kva.de"); ValueError when it is not one."""
    if not isinstance(text, str):
        raise ValueError("Enter a web domain, e.g. example.com.")
    raw = text.strip()
    if not raw:
        raise ValueError("Enter a web domain, e.g. example.com.")
    if len(raw) > MAX_INPUT:
        raise ValueError("That is too long for a web domain.")
    host = raw
    if host.lower().startswith("mailto:"):
        host = host[7:]
    host = _SCHEME.sub("", host, count=1)
    host = re.split(r"[/?#\\]", host, maxsplit=1)[0]  # the path, query, fragment
    host = host.rsplit("@", 1)[-1]  # an email address, or a URL's user:password@
    if host.startswith("["):
        raise ValueError("Enter a web domain (a name such as example.com), not an IP address.")
    host = host.split(":", 1)[0]  # the port
    host = host.translate(_DOTS).strip().rstrip(".")
    if not host:
        raise ValueError("Enter a web domain, e.g. example.com.")
    if any(char.isspace() for char in host):
        raise ValueError("A web domain has no spaces, e.g. example.com.")
    labels = []
    for label in host.split("."):
        if not label:
            raise ValueError("That web domain has an empty part (two dots in a row?).")
        if label.isascii():
            ascii_label = label.lower()
        else:
            try:
                ascii_label = label.encode("idna").decode("ascii").lower()
            except (UnicodeError, ValueError):
                raise ValueError(f"“{label[:63]}” is not a valid part of a web domain.") from None
        if not _LABEL.match(ascii_label):
            raise ValueError(f"“{label[:63]}” is not a valid part of a web domain (letters, digits and hyphens, "
                             "at most 63 characters).")
        labels.append(ascii_label)
    if labels[0] == "www" and len(labels) > 2:
        labels = labels[1:]
    if len(labels) < 2:
        raise ValueError("Enter the whole web domain, e.g. example.com.")
    if labels[-1].isdigit():
        raise ValueError("Enter a web domain (a name such as example.com), not an IP address.")
    domain = ".".join(labels)
    if len(domain) > MAX_DOMAIN:
        raise ValueError(f"A web domain has at most {MAX_DOMAIN} characters.")
    return domain


def parent_domains(domain: str) -> list[str]:
    """``domain`` (normalised) and each of its parents down to the registrable one, longest first:
    "a.sales.example.co.uk" → ["a.sales.example.co.uk", "sales.example.co.uk", "example.co.uk"]. A top-level domain
    or a public suffix (co.uk) is never a parent."""
    labels = domain.split(".")
    found = []
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        if candidate in PUBLIC_SUFFIXES:
            break
        found.append(candidate)
    return found or [domain]


def reversed_domain(domain: str) -> str:
    """``domain`` reversed character by character, as PostgreSQL's ``reverse()`` in the conflict-check indexes."""
    return domain[::-1]


def is_public_mail_domain(domain: str) -> bool:
    """A mail service anyone may use (or a subdomain of one): never a conflict."""
    return any(parent in PUBLIC_MAIL_DOMAINS for parent in parent_domains(domain)) or domain in PUBLIC_MAIL_DOMAINS


def email_domain(email: str) -> str:
    """The normalised domain of an email address, or "" (no address, a garbled one, or a public mail service)."""
    if "@" not in (email or ""):
        return ""
    try:
        domain = normalise_domain(email.rsplit("@", 1)[1])
    except ValueError:
        return ""
    return "" if is_public_mail_domain(domain) else domain
