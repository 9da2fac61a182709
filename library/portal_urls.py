"""Placeholder until this part of the library is built (replace the view)."""

from django.http import Http404
from django.urls import path

app_name = "library"


def _placeholder(request, *args, **kwargs):
    raise Http404("not built yet")


urlpatterns = [
    path("", _placeholder, name="home"),
]
