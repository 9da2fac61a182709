"""A partner's portal users, for staff, under /partners/<id>/portal-users/ (URL names ``portal_people:…``)."""

from django.urls import path

from dashboard import portal_people_views as views

app_name = "portal_people"

urlpatterns = [
    path("", views.portal_users, name="list"),
    path("invite/", views.invite_admin, name="invite"),
    path("domains/", views.domain_add, name="domain_add"),
    path("domains/<int:pk>/delete/", views.domain_delete, name="domain_delete"),
    path("invitations/<int:pk>/revoke/", views.revoke, name="revoke"),
]
