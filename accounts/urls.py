"""/accounts/…: login, SSO (allauth's URL names, which allauth reverses), password reset (Django's names), sessions."""

from django.urls import path

from accounts import oidc, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("two-factor/", views.two_factor, name="account_two_factor"),
    path("oidc/<slug:provider_id>/login/", oidc.oidc_login, name="openid_connect_login"),
    path("oidc/<slug:provider_id>/login/callback/", oidc.oidc_callback, name="openid_connect_callback"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("sessions/", views.sessions, name="account_sessions"),
    path("sessions/<int:pk>/end/", views.session_end, name="account_session_end"),
    path("sessions/end-others/", views.sessions_end_others, name="account_sessions_end_others"),
]
