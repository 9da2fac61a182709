"""Small request helpers shared by the apps' views."""

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
