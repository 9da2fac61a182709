"""OpenID Connect on django-allauth's openid_connect provider, made strict.

allauth does the protocol: discovery, the authorization request with ``state`` (kept in the session, used once) and
PKCE (S256), the code exchange, the userinfo call. What we add here:

- a ``nonce`` in every authorization request, kept in allauth's state, and required in the ID token;
- the ID token is always verified: signature against the IdP's JWKS with an asymmetric algorithm only (allauth skips the
  signature when the token came straight from the token endpoint — the spec allows it, we don't rely on it), issuer,
  audience (and ``azp`` when there are several audiences), expiry, issued-at, ``sub``;
- an IdP that is down or answers nonsense is an authentication error (our page), never a 500.

Every failure ends at ``accounts.adapter.SocialAccountAdapter.on_authentication_error``.
"""

import hmac
import json
import logging
import secrets

import jwt
from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from requests import RequestException

logger = logging.getLogger(__name__)

# Asymmetric only: an HMAC algorithm would let a token be "signed" with the public key.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 60  # clock skew allowed on exp / iat / nbf


class IdTokenInvalid(OAuth2Error):
    """The ID token failed a check; the message says which (logged, not shown)."""


def _jwks_key(keys_url: str, header: dict):
    with get_adapter().get_requests_session() as session:
        response = session.get(keys_url)
        response.raise_for_status()
        keys = response.json().get("keys", [])
    kid = header.get("kid")
    candidates = [k for k in keys if kid is None or k.get("kid") == kid]
    if kid is None and len(candidates) != 1:
        raise IdTokenInvalid("ID token has no kid and the JWKS does not hold exactly one key")
    if not candidates:
        raise IdTokenInvalid(f"no key {kid!r} in the IdP's JWKS")
    try:
        return jwt.PyJWK(json.loads(json.dumps(candidates[0])), algorithm=header["alg"]).key
    except jwt.PyJWTError as error:
        raise IdTokenInvalid(f"unusable key {kid!r}: {error}") from error


def id_token_verify(*, token: str, keys_url: str, issuer: str, audience: str, nonce: str | None) -> dict:
    """The ID token's claims once every check passed; IdTokenInvalid otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise IdTokenInvalid(f"not a JWT: {error}") from error
    if header.get("alg") not in ALGORITHMS:
        raise IdTokenInvalid(f"algorithm {header.get('alg')!r} is not accepted")
    key = _jwks_key(keys_url, header)
    try:
        claims = jwt.decode(
            token, key=key, algorithms=[header["alg"]], audience=audience, issuer=issuer, leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_signature": True},
        )
    except jwt.PyJWTError as error:
        raise IdTokenInvalid(f"ID token rejected: {error}") from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != audience:
        raise IdTokenInvalid("ID token has several audiences and azp is not our client")
    if not nonce or not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
        raise IdTokenInvalid("ID token nonce does not match the one we sent")
    return claims


class PrmOpenIDConnectAdapter(OpenIDConnectOAuth2Adapter):
    state: dict | None = None  # set by the callback view before the code is exchanged

    def complete_login(self, request: HttpRequest, app, token, **kwargs):
        if not kwargs["response"].get("id_token"):
            raise IdTokenInvalid("the token response holds no ID token")
        login = super().complete_login(request, app, token, **kwargs)
        data = login.account.extra_data
        userinfo_sub = (data.get("userinfo") or {}).get("sub")
        if userinfo_sub is not None and str(userinfo_sub) != str(data["id_token"]["sub"]):
            raise IdTokenInvalid("userinfo is about another subject than the ID token")
        return login

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        discovered = str(self.openid_config.get("issuer", ""))
        if discovered.rstrip("/") != str(app.settings.get("issuer", discovered)).rstrip("/"):
            raise IdTokenInvalid(f"the provider's discovery names another issuer: {discovered!r}")
        return id_token_verify(
            token=id_token, keys_url=self.openid_config["jwks_uri"], issuer=self.openid_config["issuer"],
            audience=app.client_id, nonce=(self.state or {}).get("nonce"),
        )


class PrmOpenIDConnectProvider(OpenIDConnectProvider):
    """allauth's OpenID Connect provider with a nonce; set as its ``provider_class`` in settings."""

    oauth2_adapter_class = PrmOpenIDConnectAdapter

    def get_oauth2_adapter(self, request: HttpRequest):
        return PrmOpenIDConnectAdapter(request, self.app.provider_id)

    def redirect(self, request: HttpRequest, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        auth_params = dict(self.get_auth_params() if auth_params is None else auth_params)
        auth_params["nonce"] = nonce  # after the request's own auth_params: a caller cannot choose it
        try:
            return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)
        except (RequestException, ValueError, KeyError) as error:  # discovery failed: the IdP is down or broken
            logger.warning("SSO %s: discovery failed: %s", self.app.provider_id, error)
            return render_authentication_error(request, self, exception=error)


class PrmCallbackView(OAuth2CallbackView):
    def _get_state(self, request, provider):
        state, response = super()._get_state(request, provider)
        self.adapter.state = state
        return state, response

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except (ValueError, KeyError) as error:  # discovery or token response not what OIDC says
            logger.warning("SSO: malformed answer from the identity provider: %s", error)
            return render_authentication_error(request, self.adapter.get_provider(), exception=error)


@login_not_required
def oidc_login(request: HttpRequest, provider_id: str):
    """Start signing in with ``provider_id``: a POST from the login page's button (a GET goes back to that page)."""
    if request.method != "POST":
        return redirect("login")
    try:
        return OAuth2LoginView.adapter_view(PrmOpenIDConnectAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404("no such identity provider") from None


@login_not_required
def oidc_callback(request: HttpRequest, provider_id: str):
    try:
        return PrmCallbackView.adapter_view(PrmOpenIDConnectAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404("no such identity provider") from None
