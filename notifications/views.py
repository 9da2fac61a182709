"""PLACEHOLDER (being written by the notifications engineer): every view answers 404 until then."""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def notification_list(request):
    raise Http404


@login_required
def notification_unread_count(request):
    raise Http404


@login_required
def notification_mark_read(request, pk):
    raise Http404


@login_required
def notification_mark_all_read(request):
    raise Http404
