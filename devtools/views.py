"""The development mailbox pages (devtools.mailbox reads the files): only with DEBUG on, for a signed-in user.

With DEBUG off both answer 404 before anything else, signed in or not, so a production site shows no sign of them.
Any signed-in user may look (a demo rep checks their own reminder email): it is a developer's machine.
"""

from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from devtools.mailbox import mailbox_message_get, mailbox_messages


def _debug_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.DEBUG:
            raise Http404("The development mailbox exists only with DEBUG on.")
        return view(request, *args, **kwargs)

    return wrapper


def _folder() -> Path:
    return Path(getattr(settings, "EMAIL_FILE_PATH", None) or settings.VAR_DIR / "mail").resolve()


@_debug_only
@login_required
@require_http_methods(["GET", "HEAD"])
def mailbox(request):
    """Queries: the session and the user (2); the messages are files."""
    folder = _folder()
    response = render(request, "devtools/mailbox.html", {
        "mail": mailbox_messages(folder=folder),
        "folder": folder,
        "file_backend": settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend",
    })
    add_never_cache_headers(response)
    return response


@_debug_only
@login_required
@require_http_methods(["GET", "HEAD"])
def mailbox_message(request, file_name: str, index: int):
    """Queries: the session and the user (2)."""
    message = mailbox_message_get(folder=_folder(), file_name=file_name, index=index)
    if message is None:
        raise Http404("No such message.")
    response = render(request, "devtools/mailbox_message.html", {"message": message})
    add_never_cache_headers(response)
    return response
