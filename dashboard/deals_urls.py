"""The staff's deal registration pages, under /deals/ (URL names ``deals:…``), included by prm/urls.py."""

from django.urls import path

from dashboard import deals_views as views

app_name = "deals"

urlpatterns = [
    path("", views.deal_list, name="list"),
    path("<int:pk>/", views.deal_detail, name="detail"),
    path("<int:pk>/decide/", views.deal_decide, name="decide"),
    path("<int:pk>/extension/", views.deal_extension, name="extension"),
    path("<int:pk>/confirm-won/", views.deal_confirm_won, name="confirm_won"),
    path("<int:pk>/refuse-won/", views.deal_refuse_won, name="refuse_won"),
]
