"""``POST /api/auth/token`` and the Bearer + Site-Id check every other ``/api`` call passes.

Only hashes of tokens are stored, and no error text ever echoes a secret or a token. A token belongs to the
site it was issued for; a valid token presented with another Site-Id is 403 (the caller is known, the site is
not theirs), an unknown or expired one 401.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from sparklayer_erp.demo.sandbox.db import Database
from sparklayer_erp.demo.sandbox.faults import FaultSwitches
from sparklayer_erp.demo.sandbox.problems import ApiError, FieldError
from sparklayer_erp.demo.sandbox.validate import Checker
from sparklayer_erp.sparklayer import contract


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message, [FieldError("unauthorized", message, "")],
                    headers={"WWW-Authenticate": 'Bearer realm="sparklayer"'})


@dataclass(frozen=True)
class Credentials:
    site_id: str
    client_id: str
    client_secret: str


class TokenService:
    def __init__(self, db: Database, credentials: Credentials, faults: FaultSwitches) -> None:
        self._db = db
        self._credentials = credentials
        self._faults = faults
        self._issued = 0  # tokens issued since the sandbox started (a reset keeps it, like the tokens)
        self._issued_lock = threading.Lock()

    @property
    def site_id(self) -> str:
        return self._credentials.site_id

    def issue(self, site_header: str | None, body: object) -> dict:
        """Client-credentials grant; the body has already been parsed as JSON (form bodies never get here)."""
        if not site_header:
            raise ApiError(400, "the Site-Id header is required",
                           [FieldError("required", "the Site-Id header is required", "Site-Id")])
        check = Checker()
        data = check.root_object(body)
        check.only_keys(data, ("grant_type", "client_id", "client_secret"))
        check.text(data, "grant_type", required=True, choices=("client_credentials",))
        client_id = check.text(data, "client_id", required=True)
        client_secret = check.text(data, "client_secret", required=True)
        check.raise_if_any("the token request is invalid")
        expected = self._credentials
        ok = (hmac.compare_digest(site_header.encode(), expected.site_id.encode())
              & hmac.compare_digest(str(client_id).encode(), expected.client_id.encode())
              & hmac.compare_digest(str(client_secret).encode(), expected.client_secret.encode()))
        if not ok:
            raise unauthorized("the site id, client id or client secret is not valid")
        token = secrets.token_urlsafe(32)
        lifetime = self._faults.config.token_lifetime_s
        actual = contract.TOKEN_LIFETIME_S if lifetime is None else lifetime
        with self._db.tx() as conn:
            now = time.time()
            conn.execute("DELETE FROM tokens WHERE expires_at < ?", (now,))
            conn.execute("INSERT INTO tokens (token_hash, site_id, expires_at) VALUES (?, ?, ?)",
                         (_hash(token), expected.site_id, now + actual))
        with self._issued_lock:
            self._issued += 1
        return {"access_token": token, "expires_in": contract.TOKEN_LIFETIME_S,
                "token_type": contract.TOKEN_TYPE}

    def verify(self, authorization: str | None, site_header: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("a Bearer access token is required")
        if not site_header:
            raise unauthorized("the Site-Id header is required")
        with self._db.tx() as conn:
            row = conn.execute("SELECT site_id, expires_at FROM tokens WHERE token_hash = ?",
                               (_hash(token.strip()),)).fetchone()
        if row is None or row["expires_at"] <= time.time():
            raise unauthorized("the access token is unknown or expired")
        if not hmac.compare_digest(row["site_id"].encode(), site_header.encode()):
            raise ApiError(403, "the access token was not issued for this site",
                           [FieldError("forbidden", "the access token was not issued for this site", "Site-Id")])

    def counts(self) -> dict[str, int]:
        """``issued``: access tokens handed out since the sandbox started; ``live``: those not yet expired."""
        with self._db.tx() as conn:
            live = conn.execute("SELECT COUNT(*) FROM tokens WHERE expires_at > ?", (time.time(),)).fetchone()[0]
        with self._issued_lock:
            return {"issued": self._issued, "live": int(live)}

    def revoke_all(self) -> int:
        with self._db.tx() as conn:
            return conn.execute("DELETE FROM tokens").rowcount
