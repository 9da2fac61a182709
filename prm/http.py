"""Small request helpers shared by the apps' views."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.http import url_has_allowed_host_and_scheme


def next_path(request) -> str:
    """Where to go back to after a success: the posted or ``?next=`` path (e.g. Today, the notifications list) when it
    is a path on this site, else "" (the caller's default). Never another host or scheme: no open redirect."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


_web_address = URLValidator(schemes=["http", "https"])


def clean_web_address(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    """A link a user typed, for a page to show as a link: stripped, "" when empty (a ValidationError on ``field``
    when ``required``), else an http(s) URL of at most ``max_length`` characters — never ``javascript:`` or
    ``data:``. ValidationError on ``field`` saying what is wrong."""
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationError({field: "Enter the web address (https://…)."})
        return ""
    if len(value) > max_length:
        raise ValidationError({field: f"Keep the address to {max_length} characters (it has {len(value)})."})
    try:
        _web_address(value)
    except ValidationError:
        raise ValidationError({field: "Enter a web address starting with https:// (or http://)."}) from None
    return value
