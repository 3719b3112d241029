"""Authentication: OAuth 2.0 client credentials with a signed JWT assertion, Bearer tokens, and
token-based authentication (OAuth 1.0a, HMAC-SHA256) with its signature checked.

Token-endpoint errors use the OAuth shape ``{"error": "invalid_grant"}`` (status 400; the exact NetSuite
text is not documented); every refused API call is 401 ``INVALID_LOGIN``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import quote, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from sparklayer_erp.demo.netsuite import errors
from sparklayer_erp.demo.netsuite import not_confirmed as nc
from sparklayer_erp.demo.netsuite.credentials import EmulatorCredentials
from sparklayer_erp.demo.netsuite.db import Database

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
ALGORITHMS = frozenset({"PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
CLOCK_SKEW_S = 300
CURVE_BITS = {"ES256": 256, "ES384": 384, "ES512": 521}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _verify_signature(alg: str, key: Any, signing_input: bytes, signature: bytes) -> None:
    hash_cls = HASHES[alg[2:]]
    if alg.startswith("ES"):
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.key_size != CURVE_BITS[alg]:
            raise InvalidSignature
        half = len(signature) // 2
        der = encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
        key.verify(der, signing_input, ec.ECDSA(hash_cls()))
    else:
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidSignature
        key.verify(signature, signing_input,
                   padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size), hash_cls())


class Authenticator:
    """Issues and checks access tokens; verifies JWT assertions and TBA signatures."""

    def __init__(self, db: Database, credentials: EmulatorCredentials) -> None:
        self.db = db
        self.credentials = credentials
        self.keys = {kid: serialization.load_pem_public_key(pem.encode())
                     for kid, pem in credentials.certificates.items()}
        self.token_lifetime_s = nc.TOKEN_LIFETIME_S
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    # --- OAuth 2.0 client credentials -------------------------------------------------------------------
    def issue(self, form: dict[str, str], token_url: str) -> dict[str, Any]:
        if form.get("grant_type") != "client_credentials":
            raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise OAuthError("invalid_request", "a JWT client_assertion is required")
        self.check_assertion(form["client_assertion"], token_url)
        token = secrets.token_urlsafe(48)
        expires = self._now() + self.token_lifetime_s
        with self.db.tx() as conn:
            conn.execute("DELETE FROM ns_token WHERE expires_at < ?", (self._now() - 86400,))
            conn.execute("INSERT INTO ns_token (token_hash, expires_at) VALUES (?, ?)", (self._hash(token), expires))
        return {"access_token": token, "expires_in": nc.TOKEN_LIFETIME_S, "token_type": "Bearer"}

    def check_assertion(self, assertion: str, token_url: str) -> None:
        try:
            head_b64, body_b64, sig_b64 = assertion.split(".")
            header, claims = json.loads(_b64(head_b64)), json.loads(_b64(body_b64))
            signature = _b64(sig_b64)
        except (ValueError, TypeError):
            raise OAuthError("invalid_request", "the client assertion is not a JWT") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise OAuthError("invalid_request", "the client assertion is not a JWT")
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise OAuthError("invalid_request", f"unsupported JWT alg {alg!r}")
        if header.get("typ", "JWT") != "JWT":
            raise OAuthError("invalid_request", "JWT typ must be JWT")
        key = self.keys.get(str(header.get("kid")))
        if key is None:
            raise OAuthError("invalid_client", "unknown certificate id (kid)", 401)
        try:
            _verify_signature(alg, key, f"{head_b64}.{body_b64}".encode(), signature)
        except InvalidSignature:
            raise OAuthError("invalid_client", "the assertion signature does not verify", 401) from None
        if claims.get("iss") != self.credentials.client_id:
            raise OAuthError("invalid_client", "iss is not the client id of an integration record", 401)
        audience = claims.get("aud")
        if token_url not in (audience if isinstance(audience, list) else [audience]):
            raise OAuthError("invalid_grant", "aud must be the token endpoint URL")
        scope = claims.get("scope")
        scopes = scope.split() if isinstance(scope, str) else scope if isinstance(scope, list) else []
        if "rest_webservices" not in scopes:
            raise OAuthError("invalid_scope", "scope must include rest_webservices")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or isinstance(iat, bool) or isinstance(exp, bool):
            raise OAuthError("invalid_grant", "iat and exp are required (epoch seconds)")
        now = self._now()
        if exp - iat > 3600 or exp <= iat:
            raise OAuthError("invalid_grant", "exp must be less than 60 minutes after iat")
        if exp <= now or iat > now + CLOCK_SKEW_S:
            raise OAuthError("invalid_grant", "the assertion has expired or is not yet valid")

    def expire_all(self) -> None:
        with self.db.tx() as conn:
            conn.execute("UPDATE ns_token SET expires_at = 0")

    # --- request authentication -------------------------------------------------------------------------
    def authenticate(self, method: str, url: str, query: list[tuple[str, str]], authorization: str | None) -> None:
        """Raise 401 INVALID_LOGIN unless the request carries a live Bearer token or a valid TBA header."""
        if authorization and authorization[:7].lower() == "bearer ":
            with self.db.tx() as conn:
                row = conn.execute("SELECT expires_at FROM ns_token WHERE token_hash = ?",
                                   (self._hash(authorization[7:].strip()),)).fetchone()
            if row is None or row["expires_at"] <= self._now():
                raise errors.invalid_login()
            return
        if authorization and authorization[:6].lower() == "oauth ":
            self._check_tba(method, url, query, authorization[6:])
            return
        raise errors.invalid_login()

    def _check_tba(self, method: str, url: str, query: list[tuple[str, str]], header: str) -> None:
        params: dict[str, str] = {}
        for part in header.split(","):
            key, sep, value = part.strip().partition("=")
            if sep:
                params[key.strip()] = unquote(value.strip().strip('"'))
        creds = self.credentials
        ok = (params.get("realm") == creds.account_id and params.get("oauth_consumer_key") == creds.consumer_key
              and params.get("oauth_token") == creds.token_id
              and params.get("oauth_signature_method") == "HMAC-SHA256"
              and params.get("oauth_version", "1.0") == "1.0")
        try:
            timestamp = int(params.get("oauth_timestamp", ""))
        except ValueError:
            ok = False
            timestamp = 0
        if not ok or abs(timestamp - self._now()) > CLOCK_SKEW_S or not params.get("oauth_nonce"):
            raise errors.invalid_login()
        signed = [(k, v) for k, v in params.items() if k.startswith("oauth_") and k != "oauth_signature"]
        pairs = sorted((quote(k, safe="~"), quote(v, safe="~")) for k, v in [*signed, *query])
        normalized = "&".join(f"{k}={v}" for k, v in pairs)
        base = "&".join(quote(s, safe="~") for s in (method.upper(), url, normalized))
        key = f"{quote(creds.consumer_secret, safe='~')}&{quote(creds.token_secret, safe='~')}"
        expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, params.get("oauth_signature", "")):
            raise errors.invalid_login()
        with self._lock:
            now = self._now()
            self._nonces = {n: t for n, t in self._nonces.items() if t > now - 2 * CLOCK_SKEW_S}
            nonce = f"{params['oauth_nonce']}:{timestamp}"
            if nonce in self._nonces:
                raise errors.invalid_login()
            self._nonces[nonce] = now

    def _now(self) -> float:
        return time.time()  # real time: the business clock offset (overdue tests) must not break logins

    @staticmethod
    def _hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
