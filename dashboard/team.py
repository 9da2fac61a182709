"""PLACEHOLDER (being written, issue 12): the manager's team dashboard at /team/."""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def team_dashboard(request):
    raise Http404
