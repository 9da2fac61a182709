"""The resource library in the portal, under /portal/library/ (URL names ``library:…``); included by prm/urls.py."""

from django.urls import path

from library import portal_views as views

app_name = "library"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<int:pk>/", views.category, name="category"),
    path("r/<int:pk>/", views.resource, name="resource"),
    path("r/<int:pk>/download/", views.download, name="download"),
]
