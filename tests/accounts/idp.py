"""A real OpenID Connect provider for the tests: ``oidc-provider-mock`` (Authlib's authorization server in Flask),
served on 127.0.0.1 from a thread of the test process, with two additions of our own:

- PKCE is REQUIRED (S256): an authorization request without ``code_challenge`` is refused and the token endpoint checks
  the ``code_verifier`` (the mock registers the code grant without RFC 7636; we add Authlib's ``CodeChallenge``);
- ``tamper``: a function applied to the ID token of the next token responses, to send what a hostile or broken IdP
  would (a changed claim without re-signing, a wrong audience, an expired token, another nonce…).

Users are set through the provider's own API (``PUT /users/<sub>`` with their claims); signing in is its real
authorization form (POST ``sub``), as a browser does.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import warnings
from dataclasses import dataclass, field
from urllib.parse import quote

import flask
import oidc_provider_mock
import requests
import werkzeug.serving
from authlib import jose
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from cryptography.hazmat.primitives.asymmetric import rsa
from oidc_provider_mock._app import AuthorizationCodeGrant

# The mock calls Authlib APIs Authlib has deprecated; not ours to fix.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"authlib\..*")
warnings.filterwarnings("ignore", message=r".*(authlib\.jose|httpx module) is deprecated.*")

CHALLENGES: dict[str, tuple[str, str]] = {}  # authorization code -> (code_challenge, method)


class PkceCodeGrant(AuthorizationCodeGrant):
    def save_authorization_code(self, code, request):
        data = request.payload.data
        CHALLENGES[code] = (data.get("code_challenge"), data.get("code_challenge_method"))
        return super().save_authorization_code(code, request)


class RequiredCodeChallenge(CodeChallenge):
    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with S256 is required")
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        return super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code):
        return CHALLENGES.get(authorization_code.code, (None, None))[0]

    def get_authorization_code_challenge_method(self, authorization_code):
        return CHALLENGES.get(authorization_code.code, (None, None))[1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class TestIdP:
    url: str
    app: flask.Flask
    storage: object
    tamper: object = None  # callable(idp, id_token) -> the ID token to send instead
    discovery_changes: dict = field(default_factory=dict)  # fields of the discovery document to send changed
    token_requests: list = field(default_factory=list)

    def set_user(self, sub: str, **claims) -> None:
        response = requests.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    # --- building hostile ID tokens -------------------------------------------------------------------------------

    def sign(self, claims: dict, header: dict | None = None) -> str:
        kid = self.storage.jwk.as_dict().get("kid")
        header = header or {"alg": "RS256", **({"kid": kid} if kid else {})}
        return jose.jwt.encode(header, claims, self.storage.jwk).decode()

    @staticmethod
    def claims_of(token: str) -> dict:
        return json.loads(_unb64(token.split(".")[1]))

    @staticmethod
    def with_claims_unsigned(token: str, **changes) -> str:
        """The same header and signature with other claims: what an attacker editing a token in transit sends."""
        header, payload, signature = token.split(".")
        claims = json.loads(_unb64(payload))
        claims.update(changes)
        return ".".join([header, _b64(json.dumps(claims).encode()), signature])

    def hs256_with_public_key(self, token: str) -> str:
        """Algorithm confusion: HS256 "signed" with the IdP's public key (which anyone can read from its JWKS)."""
        claims = self.claims_of(token)
        public = json.dumps(self.storage.jwk.as_dict(is_private=False)).encode()
        header = {"alg": "HS256", "kid": self.storage.jwk.as_dict().get("kid")}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def signed_by_another_key(self, token: str) -> str:
        other = jose.RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        kid = self.storage.jwk.as_dict().get("kid")
        header = {"alg": "RS256", "kid": kid} if kid else {"alg": "RS256"}
        return jose.jwt.encode(header, self.claims_of(token), other).decode()


def start_idp():
    """Start the provider on a free port of 127.0.0.1; returns (TestIdP, stop). Raises if it cannot start."""
    app = oidc_provider_mock.app(require_nonce=True)
    set_globals = next(f for f in app.before_request_funcs[None] if f.__name__ == "set_globals")
    cells = dict(zip(set_globals.__code__.co_freevars, (c.cell_contents for c in set_globals.__closure__), strict=True))
    authorization, storage = cells["authorization"], cells["storage"]
    pkce = RequiredCodeChallenge(required=True)
    for registry in (authorization._authorization_grants, authorization._token_grants):
        for i, (grant_cls, extensions) in enumerate(registry):
            if grant_cls is AuthorizationCodeGrant:
                registry[i] = (PkceCodeGrant, [*extensions, pkce])

    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    idp = TestIdP(url=f"http://127.0.0.1:{server.server_port}", app=app, storage=storage)

    @app.after_request
    def tamper(response):
        if flask.request.path == "/.well-known/openid-configuration" and idp.discovery_changes:
            response.set_data(json.dumps(response.get_json() | idp.discovery_changes))
        if flask.request.path == "/oauth2/token":
            idp.token_requests.append(dict(flask.request.form))
            if idp.tamper is not None and response.status_code == 200:
                body = response.get_json()
                body["id_token"] = idp.tamper(idp, body["id_token"])
                response.set_data(json.dumps(body))
        return response

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(f"{idp.url}/.well-known/openid-configuration", timeout=2).raise_for_status()
            break
        except requests.RequestException:
            if time.monotonic() > deadline:
                server.shutdown()
                raise
            time.sleep(0.1)

    def stop():
        server.shutdown()
        server.server_close()
        thread.join(5)

    return idp, stop
