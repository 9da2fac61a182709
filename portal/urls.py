"""The portal's URLs (/portal/…). Each part of the portal has its own module of views and URLs."""

from django.urls import include, path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),  # portal.views: home, business card, company profile and its updates
    path("", include("portal.views_urls")),
    path("", include("portal.people_urls")),  # invitations, joining, colleagues, access requests
    path("deals/", include("portal.deal_urls")),  # deal registrations
    path("leads/", include("portal.lead_urls")),  # leads shared with the partner
    path("messages/", include("portal.message_urls")),  # announcements (the bell) and the feed
    path("prices/", include("portal.price_urls")),  # the partner's price list (issue 17)
]
