"""Our django-allauth social account adapter: where allauth's OIDC flow hands over to us.

- ``list_apps``: the identity providers are ``accounts.IdentityProvider`` rows (admin-edited, secret encrypted), not
  allauth's SocialApp table or settings.
- ``pre_social_login``: the ID token was verified (accounts.oidc); ``accounts.services.sso_sign_in`` decides who this
  is (link, verified email, just-in-time creation by the IdP's policy) or refuses; we log the user in with Django's
  ``login`` (so django-axes, the portal boundary and the session flags see an ordinary login) and redirect. allauth's
  own signup/connect flows, email addresses and account pages are never reached.
- ``on_authentication_error``: every failure (IdP down, state unknown or used, token exchange refused — e.g. a replayed
  code —, an ID token that fails a check, the user cancelled or the IdP refused them) is our page with a clear message.
"""

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base.constants import AuthError
from django.conf import settings
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from requests import RequestException

from accounts import crypto, services
from accounts.models import IdentityProvider
from accounts.signin import finish_sign_in

logger = logging.getLogger(__name__)

PROVIDER = "openid_connect"


def social_app(idp: IdentityProvider) -> SocialApp:
    """allauth's view of one identity provider (unsaved: allauth only reads it)."""
    return SocialApp(
        provider=PROVIDER, provider_id=idp.slug, name=idp.name, client_id=idp.client_id,
        secret=crypto.decrypt(idp.client_secret_encrypted),
        settings={"server_url": idp.issuer.rstrip("/"), "oauth_pkce_enabled": True, "idp_pk": idp.pk,
                  "issuer": idp.issuer},
    )


def sso_page(request, *, title: str, message: str, status: int, idp_name: str = "") -> TemplateResponse:
    return TemplateResponse(
        request, "accounts/sso_error.html", {"title": title, "message": message, "idp_name": idp_name}, status=status
    )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        # allauth asks several times per request: one query, kept on the request
        cache = getattr(request, "_prm_idp_apps", None) if request is not None else None
        if cache is None:
            cache = [social_app(idp) for idp in IdentityProvider.objects.filter(enabled=True)]
            if request is not None:
                request._prm_idp_apps = cache
        return [app for app in cache
                if (not provider or provider in (PROVIDER, app.provider_id))
                and (not client_id or app.client_id == client_id)]

    def is_open_for_signup(self, request, sociallogin):
        return False  # accounts are created by accounts.services only (pre_social_login never lets allauth sign up)

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        name = provider.app.name if provider is not None and provider.app is not None else "your identity provider"
        slug = provider.app.provider_id if provider is not None and provider.app is not None else "?"
        if isinstance(exception, RequestException):
            logger.warning("SSO %s: identity provider unreachable: %s", slug, exception)
            response = sso_page(
                request, title=f"{name} is not answering", status=502, idp_name=name,
                message=f"We could not reach {name}, so you are not signed in. Try again in a few minutes; if you "
                "also have a password here, you can log in with it below.",
            )
        elif error == AuthError.CANCELLED:
            logger.info("SSO %s: sign-in cancelled or refused by the identity provider", slug)
            response = sso_page(
                request, title="Not signed in", status=403, idp_name=name,
                message=f"{name} did not sign you in: you cancelled, or your account there is not allowed to use "
                "this application. Ask your administrator if you think you should have access.",
            )
        elif exception is None and extra_context and "state" not in extra_context and not extra_context.get("state"):
            logger.warning("SSO %s: unknown or already used state", slug)
            response = sso_page(
                request, title="This sign-in has expired", status=400, idp_name=name,
                message="This sign-in link is not valid any more (it was already used, it is too old, or it was "
                "started in another browser). Start again from the login page.",
            )
        else:
            reason = str(exception) if exception is not None else (error or "unknown error")
            logger.warning("SSO %s: sign-in failed (%s): %s", slug, type(exception).__name__, reason)
            response = sso_page(
                request, title="Not signed in", status=400, idp_name=name,
                message=f"The answer from {name} could not be verified, so you are not signed in. Start again from "
                "the login page; if it happens again, tell your administrator.",
            )
        raise ImmediateHttpResponse(response)

    def pre_social_login(self, request, sociallogin):
        app = sociallogin.account.get_provider().app
        idp = IdentityProvider.objects.select_related("partner").filter(pk=app.settings["idp_pk"]).first()
        if idp is None or not idp.enabled:
            raise ImmediateHttpResponse(sso_page(
                request, title="Not signed in", status=403,
                message="This identity provider is switched off. Ask your administrator.",
            ))
        data = sociallogin.account.extra_data
        id_token, userinfo = data.get("id_token") or {}, data.get("userinfo") or {}

        def claim(name):  # the signed ID token first, then userinfo (fetched from the IdP with the access token)
            return id_token[name] if name in id_token else userinfo.get(name)

        try:
            user = services.sso_sign_in(
                provider=idp, subject=str(id_token["sub"]), email=claim("email"),
                email_verified=claim("email_verified"), given_name=claim("given_name"),
                family_name=claim("family_name"), groups=claim(idp.groups_claim),
            )
        except services.SsoRefused as refusal:
            logger.info("SSO %s: refused %s: %s", idp.slug, id_token.get("sub"), refusal.code)
            raise ImmediateHttpResponse(sso_page(
                request, title=refusal.title, message=refusal.message, status=403, idp_name=idp.name,
            )) from None
        next_url = (sociallogin.state or {}).get("next") or ""
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
        raise ImmediateHttpResponse(finish_sign_in(request, user, method=idp.name, next_url=next_url))

