"""The portal's people URLs (namespace ``portal``): colleagues, invitations, joining, access requests."""

from django.urls import path

from portal import people_views

urlpatterns = [
    path("people/", people_views.people, name="people"),
    path("people/invite/", people_views.people_invite, name="people_invite"),
    path("people/invitations/<int:pk>/revoke/", people_views.invitation_revoke_view, name="invitation_revoke"),
    path("people/<int:pk>/deactivate/", people_views.membership_deactivate, name="member_deactivate"),
    path("people/<int:pk>/reactivate/", people_views.membership_reactivate, name="member_reactivate"),
    path("people/requests/<int:pk>/approve/", people_views.access_request_approve, name="access_request_approve"),
    path("people/requests/<int:pk>/decline/", people_views.access_request_decline, name="access_request_decline"),
    path("join/<str:token>/", people_views.join, name="join"),
    path("request-access/", people_views.request_access, name="request_access"),
]
