"""The portal's leads (/portal/leads/…): the leads shared with the partner (portal.lead_views)."""

from django.urls import path

from portal import lead_views as views

urlpatterns = [
    path("", views.lead_list, name="leads"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/accept/", views.lead_accept, name="lead_accept"),
    path("<int:pk>/decline/", views.lead_decline, name="lead_decline"),
    path("<int:pk>/follow-up/", views.lead_follow_up, name="lead_follow_up"),
]
