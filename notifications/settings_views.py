"""PLACEHOLDER (being written by the settings/calendar engineer): 404 until then."""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def user_settings(request):
    raise Http404
