"""PLACEHOLDER (being written by the settings/calendar engineer): 404 until then."""

from django.http import Http404


def calendar_feed(request, token):
    raise Http404
