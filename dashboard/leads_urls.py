"""The leads pages, under /leads/ (URL names ``leads:…``); included by prm/urls.py."""

from django.urls import path

from dashboard import leads_views as views
from dashboard import share_views

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_create, name="create"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/move/", views.lead_move, name="move"),
    path("<int:pk>/convert/", views.lead_convert, name="convert"),
    path("<int:pk>/lose/", views.lead_lose, name="lose"),
    path("<int:pk>/share/", share_views.lead_share, name="share"),  # hand it to a partner (portal, issue 14)
    path("<int:pk>/share/withdraw/", share_views.lead_share_withdraw, name="share_withdraw"),
]
