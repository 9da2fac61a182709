"""The portal's business page and company profile (portal.views; the home is mapped in portal.urls)."""

from django.urls import path

from portal import views

urlpatterns = [
    path("business/", views.business, name="business"),
    path("company/", views.company, name="company"),
    path("company/propose/", views.company_propose, name="company_propose"),
]
