from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from prm.views import favicon, healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="today", permanent=False)),
    path("", include("dashboard.root_urls")),  # /today/, /settings/, /calendar/<token>.ics
    path("notifications/", include("notifications.urls")),
    path("insights/", include("insights.urls")),
    path("accounts/", include("accounts.urls")),  # login (+ SSO buttons), OIDC, password reset, sessions (issue 18)
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("partners/", include("dashboard.urls")),
    path("leads/", include("dashboard.leads_urls")),  # leads:list, leads:create, leads:detail, … (issue 13)
    path("partners/<int:partner_pk>/activities/", include("activities.urls")),
    path("partners/<int:partner_pk>/portal-users/", include("dashboard.portal_people_urls")),  # portal_people:…
    path("customers/", include("dashboard.customers_urls")),  # customers:list, customers:detail, customers:edit
    path("customers/<int:customer_pk>/activities/", include("activities.customer_urls")),
    path("tickets/", include("service.urls")),  # tickets:list, tickets:create, tickets:detail, …
    path("deals/", include("dashboard.deals_urls")),  # deals:list, deals:detail, … (partners' deal registrations)
    path("profile-updates/", include("dashboard.profile_update_urls")),  # partner profile updates to approve
    path("announcements/", include("dashboard.announcement_urls")),  # managers' messages to partners (issue 14)
    path("portal/library/", include("library.portal_urls")),  # library:… the resource library (issue 15)
    path("portal/onboarding/", include("library.onboarding_urls")),  # onboarding:… content pages and tracks
    path("library/", include("library.staff_urls")),  # library_staff:… resources managed by staff
    path("onboarding/", include("library.onboarding_staff_urls")),  # onboarding_staff:… tracks, pages, reports
    path("portal/", include("portal.urls")),  # the partner users' own site (portal.middleware keeps them there)
    path("settings/api-keys/", include("api.key_urls")),  # api_keys, api_key_revoke (issue 16)
    path("settings/webhooks/", include("webhooks.urls")),  # webhooks:… endpoints and their delivery log (issue 16)
    path("settings/crm/", include("integrations.urls")),  # crm:… CRM connections, mappings, sync log (issue 17)
    path("api/v1/", include("api.urls")),  # api:… the integration API, its schema and docs (issue 16)
    path("admin/", admin.site.urls),
    path("dev/", include("devtools.urls")),  # the development mailbox: 404 unless DEBUG is on
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
]
