"""Included under /customers/<customer_pk>/activities/ by prm/urls.py (namespace ``customer_activities``): the
partner's activity pages (activities/urls.py), the same views, for a customer."""

from activities.urls import activity_patterns

app_name = "customer_activities"

urlpatterns = activity_patterns()
