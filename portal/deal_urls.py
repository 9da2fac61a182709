"""The portal's deal registration URLs (/portal/deals/…, names ``portal:deals``, ``portal:deal_new``, …)."""

from django.urls import path

from portal import deal_views as views

urlpatterns = [
    path("", views.deal_list, name="deals"),
    path("new/", views.deal_new, name="deal_new"),
    path("<int:pk>/", views.deal_detail, name="deal_detail"),
    path("<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("<int:pk>/submit/", views.deal_submit, name="deal_submit"),
    path("<int:pk>/stage/", views.deal_stage, name="deal_stage"),
    path("<int:pk>/extension/", views.deal_extension, name="deal_extension"),
    path("<int:pk>/won/", views.deal_won, name="deal_won"),
    path("<int:pk>/lost/", views.deal_lost, name="deal_lost"),
]
