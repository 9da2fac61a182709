"""Staff pages of the resource library, under /library/ (URL names ``library_staff:…``); included by prm/urls.py."""

from django.urls import path

from library import staff_views as views

app_name = "library_staff"

urlpatterns = [
    path("", views.resource_list, name="home"),
    path("new/", views.resource_create, name="create"),
    path("<int:pk>/", views.resource_edit, name="edit"),
    path("<int:pk>/publish/", views.resource_publish, name="publish"),
    path("<int:pk>/unpublish/", views.resource_unpublish, name="unpublish"),
    path("<int:pk>/download/", views.resource_download, name="download"),
    path("categories/", views.categories, name="categories"),
    path("categories/<int:pk>/", views.categories, name="category_edit"),
    path("categories/<int:pk>/delete/", views.category_delete, name="category_delete"),
    path("tags/", views.tags, name="tags"),
    path("tags/<int:pk>/", views.tags, name="tag_edit"),
    path("tags/<int:pk>/delete/", views.tag_delete, name="tag_delete"),
]
