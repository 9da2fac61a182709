"""Included under /insights/ (URL names ``insights:…``): reactions to an insight, and the managers' rates per rule."""

from django.urls import path

from insights import tier_views, views

app_name = "insights"

urlpatterns = [
    path("<int:pk>/accept/", views.insight_accept, name="accept"),
    path("<int:pk>/dismiss/", views.insight_dismiss, name="dismiss"),
    path("<int:pk>/snooze/", views.insight_snooze, name="snooze"),
    path("rules/", views.rule_rates_page, name="rules"),
    path("<int:pk>/tier/accept/", tier_views.tier_accept, name="tier_accept"),
    path("<int:pk>/tier/reject/", tier_views.tier_reject, name="tier_reject"),
]
