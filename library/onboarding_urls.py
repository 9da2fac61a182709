"""The portal's onboarding (/portal/onboarding/…, URL names ``onboarding:…``; library.onboarding_views)."""

from django.urls import path

from library import onboarding_views as views

app_name = "onboarding"

urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),  # the navigation's "Getting started": the partner's own page
    path("pages/<int:pk>/", views.page_detail, name="page"),
    path("tracks/<int:pk>/start/", views.track_start, name="track_start"),
    path("progress/<int:pk>/", views.progress_detail, name="progress"),
    path("progress/<int:pk>/steps/<int:step_pk>/", views.step_detail, name="step"),
    path("progress/<int:pk>/steps/<int:step_pk>/complete/", views.step_complete_view, name="step_complete"),
    path("progress/<int:pk>/steps/<int:step_pk>/quiz/", views.step_quiz_view, name="step_quiz"),
    path("progress/<int:pk>/steps/<int:step_pk>/upload/", views.step_upload_view, name="step_upload"),
    path("progress/<int:pk>/steps/<int:step_pk>/ask/", views.step_ask_view, name="step_ask"),
]
