"""The portal's pages: thin callers of ``portal.selectors`` and the portal services, scoped by membership."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.selectors import portal_member


@login_required
def home(request: HttpRequest) -> HttpResponse:
    member = portal_member(request)
    return render(request, "portal/home.html", {"member": member, "partner": member.partner})
