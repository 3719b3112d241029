"""Authentication: the JWT client assertion (structure, signature), the token cache, and TBA signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from sparklayer_erp.erp.netsuite.auth import (
    OAuth2Token,
    TbaSigner,
    client_assertion,
    hmac_sha256_signature,
    signature_base_string,
)
from sparklayer_erp.erp.netsuite.config import NetSuiteConfigError
from sparklayer_erp_tests.erp.netsuite.support import (
    CONSUMER_SECRET,
    TOKEN_SECRET,
    ec_key,
    oauth_config,
    pem,
    rsa_key,
    tba_config,
)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _parts(jwt: str) -> tuple[dict, dict, bytes, bytes]:
    head, body, sig = jwt.split(".")
    return json.loads(_b64(head)), json.loads(_b64(body)), _b64(sig), f"{head}.{body}".encode()


def test_ps256_assertion_has_the_documented_claims_and_verifies_with_the_public_key():
    config = oauth_config()
    header, claims, signature, signed = _parts(client_assertion(config, now=1_742_574_430))
    assert header == {"typ": "JWT", "alg": "PS256", "kid": "cert-456"}
    assert claims["iss"] == "client-123"
    assert claims["aud"] == "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
    assert "rest_webservices" in claims["scope"]
    assert claims["iat"] == 1_742_574_430
    assert 0 < claims["exp"] - claims["iat"] < 3600
    assert claims["jti"]
    rsa_key().public_key().verify(
        signature, signed, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())


def test_tampered_assertion_does_not_verify():
    header, claims, signature, signed = _parts(client_assertion(oauth_config(), now=1_000))
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidSignature
        rsa_key().public_key().verify(signature, signed.replace(b".", b"x", 1),
                                      padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                                      hashes.SHA256())


def test_ec_key_signs_es256_with_a_raw_r_s_signature():
    config = oauth_config(private_key_pem=pem(ec_key()))
    header, _, signature, signed = _parts(client_assertion(config, now=2_000))
    assert header["alg"] == "ES256"
    assert len(signature) == 64
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    ec_key().public_key().verify(der, signed, ec.ECDSA(hashes.SHA256()))


def test_unreadable_private_key_is_a_config_error_that_does_not_quote_it():
    secret = "-----BEGIN PRIVATE KEY-----\nnot-a-key-but-secret-text\n-----END PRIVATE KEY-----"
    with pytest.raises(NetSuiteConfigError) as info:
        client_assertion(oauth_config(private_key_pem=secret))
    assert "not-a-key-but-secret-text" not in str(info.value)


def test_token_is_cached_until_shortly_before_expiry_then_minted_again():
    now = [1_000.0]
    fetched: list[dict] = []

    def fetch(form: dict) -> dict:
        fetched.append(form)
        return {"access_token": f"token-{len(fetched)}", "expires_in": 3600, "token_type": "bearer"}

    token = OAuth2Token(oauth_config(), fetch, clock=lambda: now[0])
    assert token.header() == "Bearer token-1"
    now[0] += 3000
    assert token.header() == "Bearer token-1"
    assert fetched[0]["grant_type"] == "client_credentials"
    assert fetched[0]["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    now[0] += 560  # 40 s before expiry: inside the refresh margin
    assert token.header() == "Bearer token-2"
    token.invalidate("Bearer token-1")  # a stale failure does not drop the new token
    assert token.header() == "Bearer token-2"
    token.invalidate("Bearer token-2")
    assert token.header() == "Bearer token-3"


# ------------------------------------------------------------------ TBA (OAuth 1.0a)

def test_base_string_matches_rfc5849_worked_example():
    """RFC 5849 section 3.4.1.1: query parameters with reserved characters, a form body, sorting."""
    oauth = {"oauth_consumer_key": "9djdj82h48djs9d2", "oauth_token": "kkk9d7dh3k39sjv7",
             "oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "137131201", "oauth_nonce": "7d8f3e4a",
             "realm": "Example"}
    base = signature_base_string("post", "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", oauth,
                                 extra_params=[("c2", ""), ("a3", "2 q")])
    assert base == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26"
        "c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26"
        "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7")


def test_base_string_of_oracles_rest_example_shape():
    oauth = {"oauth_consumer_key": "ef40af", "oauth_nonce": "fjaLirsIcCGVZWzBX0pg",
             "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": "1508242306", "oauth_token": "2b0ce5",
             "oauth_version": "1.0"}
    base = signature_base_string(
        "GET", "https://123456.suitetalk.api.netsuite.com:443/services/rest/record/v1/employee/40", oauth)
    assert base == (
        "GET&https%3A%2F%2F123456.suitetalk.api.netsuite.com%2Fservices%2Frest%2Frecord%2Fv1%2Femployee%2F40&"
        "oauth_consumer_key%3Def40af%26oauth_nonce%3DfjaLirsIcCGVZWzBX0pg%26oauth_signature_method%3D"
        "HMAC-SHA256%26oauth_timestamp%3D1508242306%26oauth_token%3D2b0ce5%26oauth_version%3D1.0")


def test_tba_header_uses_the_original_account_id_as_realm_and_a_verifiable_signature():
    signer = TbaSigner(tba_config(), clock=lambda: 1_508_242_306, nonce=lambda: "n0nce")
    url = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=1000&offset=0"
    header = signer.header("POST", url)
    assert header.startswith('OAuth realm="1234567_SB1", ')
    fields = dict(part.split("=", 1) for part in header[len("OAuth "):].split(", "))
    fields = {k: unquote(v.strip('"')) for k, v in fields.items()}
    assert fields["oauth_signature_method"] == "HMAC-SHA256"
    assert fields["oauth_consumer_key"] == "ck-111" and fields["oauth_token"] == "tok-222"
    signed = {k: v for k, v in fields.items() if k.startswith("oauth_") and k != "oauth_signature"}
    base = signature_base_string("POST", url, signed)
    assert "limit%3D1000" in base and "offset%3D0" in base  # query parameters are signed
    expected = base64.b64encode(hmac.new(f"{CONSUMER_SECRET}&{TOKEN_SECRET}".encode(), base.encode(),
                                         hashlib.sha256).digest()).decode()
    assert fields["oauth_signature"] == expected == hmac_sha256_signature(base, CONSUMER_SECRET, TOKEN_SECRET)
    assert CONSUMER_SECRET not in header and TOKEN_SECRET not in header
