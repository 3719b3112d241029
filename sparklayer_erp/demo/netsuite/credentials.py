"""The emulator's demo credentials, all in one place, and the settings an adapter needs to use them.

The demo key pair is derived from a fixed, public seed (an EC P-256 key), so every run of the demo, the
tests and a restarted emulator agree without files; it protects nothing. A real account's certificate is
uploaded on the M2M setup page and its private key stays with the integration.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEMO_ACCOUNT_ID = "1234567_SB1"
DEMO_CLIENT_ID = "b5f3c1d2e4a6478990ab12cd34ef5678b5f3c1d2e4a6478990ab12cd34ef5678"
DEMO_CERTIFICATE_ID = "emulator-demo-certificate-1"
DEMO_CONSUMER_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
DEMO_CONSUMER_SECRET = "demo-consumer-secret-of-the-netsuite-emulator"  # noqa: S105 - public demo value
DEMO_TOKEN_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
DEMO_TOKEN_SECRET = "demo-token-secret-of-the-netsuite-emulator"  # noqa: S105 - public demo value
_KEY_SEED = b"sparklayer-erp netsuite emulator demo key (public, protects nothing)"


@lru_cache(maxsize=1)
def demo_private_key() -> ec.EllipticCurvePrivateKey:
    secret = int.from_bytes(hashlib.sha256(_KEY_SEED).digest(), "big")
    return ec.derive_private_key(secret, ec.SECP256R1())


def private_key_pem(key: ec.EllipticCurvePrivateKey | None = None) -> str:
    return (key or demo_private_key()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def public_key_pem(key: ec.EllipticCurvePrivateKey | None = None) -> str:
    return (key or demo_private_key()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass(frozen=True)
class EmulatorCredentials:
    """What the emulator accepts: one integration (client id), its certificates, one TBA token pair."""

    account_id: str = DEMO_ACCOUNT_ID
    client_id: str = DEMO_CLIENT_ID
    certificates: dict[str, str] = field(default_factory=lambda: {DEMO_CERTIFICATE_ID: public_key_pem()})
    consumer_key: str = DEMO_CONSUMER_KEY
    consumer_secret: str = field(default=DEMO_CONSUMER_SECRET, repr=False)
    token_id: str = DEMO_TOKEN_ID
    token_secret: str = field(default=DEMO_TOKEN_SECRET, repr=False)


def adapter_settings(base_url: str, credentials: EmulatorCredentials | None = None,
                     auth: str = "oauth2") -> dict[str, str]:
    """The settings a NetSuite adapter needs to talk to an emulator at ``base_url`` (demo wiring, tests).

    Keys follow the adapter's ``NETSUITE_*`` environment names; the private key is the demo one."""
    creds = credentials or EmulatorCredentials()
    return {
        "NETSUITE_ACCOUNT_ID": creds.account_id,
        "NETSUITE_BASE_URL": base_url.rstrip("/"),
        "NETSUITE_AUTH": auth,
        "NETSUITE_CLIENT_ID": creds.client_id,
        "NETSUITE_CERTIFICATE_ID": next(iter(creds.certificates)),
        "NETSUITE_PRIVATE_KEY": private_key_pem(),
        "NETSUITE_CONSUMER_KEY": creds.consumer_key,
        "NETSUITE_CONSUMER_SECRET": creds.consumer_secret,
        "NETSUITE_TOKEN_ID": creds.token_id,
        "NETSUITE_TOKEN_SECRET": creds.token_secret,
    }
