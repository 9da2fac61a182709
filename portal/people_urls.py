"""Placeholder until this part of the portal is built (replace the views)."""

from django.http import Http404
from django.urls import path


def _placeholder(request, *args, **kwargs):
    raise Http404("not built yet")


urlpatterns = [
    path("people/", _placeholder, name="people"),
]
