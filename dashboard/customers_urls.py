"""The customer pages, under /customers/ (URL names ``customers:…``); a customer's activity pages are
activities/customer_urls.py, under /customers/<id>/activities/."""

from django.urls import path

from dashboard import customers_views

app_name = "customers"

urlpatterns = [
    path("", customers_views.customer_list, name="list"),
    path("<int:pk>/", customers_views.customer_detail, name="detail"),
    path("<int:pk>/edit/", customers_views.customer_edit, name="edit"),
]
