"""Authentication for SuiteTalk REST: OAuth 2.0 client credentials (JWT assertion) or TBA (OAuth 1.0a).

* **OAuth 2.0 client credentials** (machine to machine, preferred by Oracle): a JWT signed with the
  certificate's private key (PS256 for RSA keys, ES256/384/512 for EC keys; ``kid`` = certificate id,
  ``iss`` = client id, ``aud`` = the token endpoint) is exchanged at ``/auth/oauth2/v1/token`` for a bearer
  token valid 3600 s. The token is cached until shortly before it expires and dropped on a 401.
* **Token-based authentication**: an ``OAuth`` header signed HMAC-SHA256 over the RFC 5849 base string;
  ``realm`` is the account id as NetSuite writes it (``1234567_SB1``).

No secret (private key, consumer/token secret, assertion, access token) is ever logged or put into an
exception text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from sparklayer_erp.erp.netsuite import conventions as conv
from sparklayer_erp.erp.netsuite.config import NetSuiteConfig, NetSuiteConfigError

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_EC_ALGS = {"secp256r1": ("ES256", hashes.SHA256, 32), "secp384r1": ("ES384", hashes.SHA384, 48),
            "secp521r1": ("ES512", hashes.SHA512, 66)}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_private_key(pem: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """The signing key from PEM text; a readable error that never quotes the key."""
    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise NetSuiteConfigError("NETSUITE_PRIVATE_KEY is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise NetSuiteConfigError("NETSUITE_PRIVATE_KEY must be an RSA or EC key")
    return key


def jwt_algorithm(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    """PS256 for RSA; ES256/ES384/ES512 by the EC curve (NetSuite does not accept RS256)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return "PS256"
    try:
        return _EC_ALGS[key.curve.name][0]
    except KeyError:
        raise NetSuiteConfigError(f"EC curve {key.curve.name} is not accepted (P-256, P-384 or P-521)") from None


def sign_jwt(header: Mapping[str, object], payload: Mapping[str, object],
             key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    """A compact JWS: PS256 (RSASSA-PSS, SHA-256, MGF1-SHA-256, salt = 32 bytes) or ES* (raw r||s)."""
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(payload, separators=(",", ":")).encode())
    ).encode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(
            signing_input,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size),
            hashes.SHA256(),
        )
    else:
        _, hash_cls, size = _EC_ALGS[key.curve.name]
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hash_cls())))
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return signing_input.decode("ascii") + "." + _b64url(signature)


def client_assertion(config: NetSuiteConfig, now: float | None = None,
                     key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None) -> str:
    """The JWT NetSuite's token endpoint expects from a client-credentials client."""
    key = key or load_private_key(config.private_key_pem or "")
    issued = int(time.time() if now is None else now)
    header = {"typ": "JWT", "alg": jwt_algorithm(key), "kid": config.certificate_id}
    payload = {
        "iss": config.client_id,
        "scope": list(conv.OAUTH_SCOPES),
        "aud": config.token_url,
        "iat": issued,
        "exp": issued + conv.JWT_LIFETIME_S,
        "jti": str(uuid.uuid4()),
    }
    return sign_jwt(header, payload, key)


class OAuth2Token:
    """The cached bearer token; ``fetch`` is the HTTP exchange (``client.NetSuiteHttp`` supplies it)."""

    def __init__(self, config: NetSuiteConfig, fetch: Callable[[dict[str, str]], Mapping[str, object]],
                 clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._fetch = fetch
        self._clock = clock
        self._key = load_private_key(config.private_key_pem or "")
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def header(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - conv.TOKEN_REFRESH_MARGIN_S:
                self._refresh()
            return f"Bearer {self._token}"

    def invalidate(self, header: str | None = None) -> None:
        """Forget the token (a 401 said it is no longer valid); only if it is still the one that failed."""
        with self._lock:
            if header is None or header == f"Bearer {self._token}":
                self._token = None

    def current_secrets(self) -> tuple[str, ...]:
        return (self._token,) if self._token else ()

    def _refresh(self) -> None:
        now = self._clock()
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": client_assertion(self._config, now, self._key),
        }
        answer = self._fetch(form)
        token = answer.get("access_token")
        token_type = str(answer.get("token_type") or "bearer")
        if not isinstance(token, str) or not token or token_type.lower() != "bearer":
            raise NetSuiteConfigError("the NetSuite token endpoint answered without a bearer access token")
        try:
            expires_in = float(answer.get("expires_in") or 3600)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            expires_in = 3600.0
        self._token = token
        self._expires_at = now + expires_in


# ================================================================== TBA (OAuth 1.0a)

def percent_encode(value: str) -> str:
    """RFC 5849 §3.6: unreserved characters kept, everything else %XX (UTF-8)."""
    return quote(value, safe="-._~")


def base_string_uri(url: str) -> str:
    """RFC 5849 §3.4.1.2: scheme and host lower-case, default port dropped, no query or fragment."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in {("http", 80), ("https", 443)} else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def signature_base_string(method: str, url: str, oauth_params: Mapping[str, str],
                          extra_params: Iterable[tuple[str, str]] = ()) -> str:
    """RFC 5849 §3.4.1: METHOD & uri & normalised parameters (query + oauth_* + form body, sorted)."""
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    pairs: Sequence[tuple[str, str]] = [
        *query, *extra_params, *((k, v) for k, v in oauth_params.items() if k not in ("realm", "oauth_signature"))
    ]
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join(percent_encode(p) for p in (method.upper(), base_string_uri(url), normalized))


def hmac_sha256_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base_string.encode(), hashlib.sha256).digest()).decode("ascii")


class TbaSigner:
    """Builds the ``Authorization: OAuth ...`` header of one request."""

    def __init__(self, config: NetSuiteConfig, clock: Callable[[], float] = time.time,
                 nonce: Callable[[], str] | None = None) -> None:
        self._config = config
        self._clock = clock
        self._nonce = nonce or (lambda: secrets.token_hex(10))

    def header(self, method: str, url: str) -> str:
        c = self._config
        params = {
            "oauth_consumer_key": c.consumer_key or "",
            "oauth_nonce": self._nonce(),
            "oauth_signature_method": "HMAC-SHA256",
            "oauth_timestamp": str(int(self._clock())),
            "oauth_token": c.token_id or "",
            "oauth_version": "1.0",
        }
        base = signature_base_string(method, url, params)
        params["oauth_signature"] = hmac_sha256_signature(base, c.consumer_secret or "", c.token_secret or "")
        fields = [f'realm="{c.account_id}"'] + [f'{k}="{percent_encode(v)}"' for k, v in params.items()]
        return "OAuth " + ", ".join(fields)
