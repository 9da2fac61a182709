"""The partner pages, under /partners/ (URL names ``partners:…``)."""

from django.urls import path

from dashboard import prices_views, views

app_name = "partners"

urlpatterns = [
    path("", views.partner_list, name="list"),
    path("new/", views.partner_create, name="create"),
    path("assignees/", views.assignee_suggestions, name="assignees"),
    path("<int:pk>/", views.partner_detail, name="detail"),
    path("<int:pk>/edit/", views.partner_edit, name="edit"),
    path("<int:pk>/prices/", prices_views.partner_prices, name="prices"),  # the partner's price list (issue 17)
]
