"""OAuth 2.0 client credentials (JWT assertion), Bearer expiry and TBA signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sparklayer_erp.demo.netsuite.credentials import EmulatorCredentials, public_key_pem
from sparklayer_erp.demo.netsuite.server import run_emulator
from sparklayer_erp.demo.netsuite.staff import make_assertion
from sparklayer_erp_tests.demo.netsuite.helpers import error_code
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _token_url(ns: NetSuiteEmulator) -> str:
    return f"{ns.base_url}/services/rest/auth/oauth2/v1/token"


def _ask(url: str, assertion: str, grant: str = "client_credentials") -> httpx.Response:
    return httpx.post(url, data={"grant_type": grant, "client_assertion_type": ASSERTION_TYPE,
                                 "client_assertion": assertion})


def _get_customer(ns: NetSuiteEmulator, authorization: str) -> httpx.Response:
    return httpx.get(f"{ns.base_url}/services/rest/record/v1/customer/eid:C1001",
                     headers={"Authorization": authorization})


def test_a_signed_assertion_gets_a_bearer_token_that_opens_the_api(netsuite: NetSuiteEmulator) -> None:
    response = _ask(_token_url(netsuite), make_assertion(_token_url(netsuite)))
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 3600 and body["token_type"].lower() == "bearer"
    assert _get_customer(netsuite, f"Bearer {body['access_token']}").json()["entityId"] == "C1001"


@pytest.mark.parametrize(("change", "status"), [
    ({"kid": "not-a-certificate"}, 401),
    ({"client_id": "someone-else"}, 401),
    ({"key": ec.generate_private_key(ec.SECP256R1())}, 401),  # signed with a key not on the certificate
    ({"lifetime_s": 3601}, 400),
    ({"iat": int(time.time()) - 7200, "lifetime_s": 3600}, 400),  # expired
    ({"scope": ("restlets",)}, 400),
    ({"alg": "ES384"}, 401),  # P-256 key: an ES384 signature does not verify
])
def test_bad_assertions_are_refused(netsuite: NetSuiteEmulator, change: dict, status: int) -> None:
    response = _ask(_token_url(netsuite), make_assertion(_token_url(netsuite), **change))
    assert response.status_code == status
    assert response.json()["error"]


def test_the_audience_must_be_the_token_endpoint(netsuite: NetSuiteEmulator) -> None:
    assertion = make_assertion("https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token")
    assert _ask(_token_url(netsuite), assertion).json()["error"] == "invalid_grant"


def test_wrong_grant_type_and_missing_assertion(netsuite: NetSuiteEmulator) -> None:
    assert _ask(_token_url(netsuite), make_assertion(_token_url(netsuite)), "password").status_code == 400
    assert httpx.post(_token_url(netsuite), data={"grant_type": "client_credentials"}).status_code == 400


def test_rs256_is_not_an_accepted_algorithm(netsuite: NetSuiteEmulator) -> None:
    assertion = make_assertion(_token_url(netsuite), extra_header={"alg": "RS256"})
    assert _ask(_token_url(netsuite), assertion).status_code == 400


def test_ps256_with_an_rsa_certificate(tmp_path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    creds = EmulatorCredentials(certificates={"rsa-cert": public_key_pem(key)})  # type: ignore[arg-type]
    with run_emulator(tmp_path / "ns.sqlite", credentials=creds, seed=False) as handle:
        url = f"{handle.base_url}/services/rest/auth/oauth2/v1/token"
        assert _ask(url, make_assertion(url, key=key, kid="rsa-cert", alg="PS256")).status_code == 200
        assert _ask(url, make_assertion(url, key=key, kid="rsa-cert", alg="ES256")).status_code == 401


def test_missing_unknown_and_expired_bearer_tokens_are_invalid_login(netsuite: NetSuiteEmulator) -> None:
    assert error_code(_get_customer(netsuite, "")) == "INVALID_LOGIN"
    assert _get_customer(netsuite, "Bearer nonsense").status_code == 401
    netsuite.emulator.set_token_lifetime(0)
    token = _ask(_token_url(netsuite), make_assertion(_token_url(netsuite))).json()["access_token"]
    expired = _get_customer(netsuite, f"Bearer {token}")
    assert expired.status_code == 401 and error_code(expired) == "INVALID_LOGIN"


def test_expire_tokens_now_logs_everyone_out(netsuite: NetSuiteEmulator) -> None:
    token = _ask(_token_url(netsuite), make_assertion(_token_url(netsuite))).json()["access_token"]
    assert _get_customer(netsuite, f"Bearer {token}").status_code == 200
    netsuite.expire_tokens()
    assert _get_customer(netsuite, f"Bearer {token}").status_code == 401


def _tba_header(url: str, method: str, creds: EmulatorCredentials, *, secret: str | None = None,
                query: dict[str, str] | None = None, nonce: str = "n0nce") -> str:
    oauth = {"oauth_consumer_key": creds.consumer_key, "oauth_token": creds.token_id, "oauth_nonce": nonce,
             "oauth_timestamp": str(int(time.time())), "oauth_signature_method": "HMAC-SHA256",
             "oauth_version": "1.0"}
    pairs = sorted((quote(k, safe="~"), quote(v, safe="~")) for k, v in [*oauth.items(), *(query or {}).items()])
    base = "&".join(quote(s, safe="~") for s in (method, url, "&".join(f"{k}={v}" for k, v in pairs)))
    key = f"{quote(creds.consumer_secret, safe='~')}&{quote(secret or creds.token_secret, safe='~')}"
    signature = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()
    fields = ", ".join(f'{k}="{quote(v, safe="~")}"' for k, v in {**oauth, "oauth_signature": signature}.items())
    return f'OAuth realm="{creds.account_id}", {fields}'


def test_tba_signature_is_verified(netsuite: NetSuiteEmulator) -> None:
    creds = netsuite.emulator.credentials
    url = f"{netsuite.base_url}/services/rest/record/v1/customer/eid:C1001"
    good = _tba_header(url, "GET", creds, nonce="good-1")
    assert httpx.get(url, headers={"Authorization": good}).status_code == 200
    assert httpx.get(url, headers={"Authorization": good}).status_code == 401  # nonce replayed
    bad = _tba_header(url, "GET", creds, secret="wrong-secret", nonce="bad-1")
    assert error_code(httpx.get(url, headers={"Authorization": bad})) == "INVALID_LOGIN"


def test_tba_signs_query_parameters(netsuite: NetSuiteEmulator) -> None:
    creds = netsuite.emulator.credentials
    url = f"{netsuite.base_url}/services/rest/record/v1/customer/eid:C1001"
    header = _tba_header(url, "GET", creds, query={"fields": "entityId"}, nonce="q-1")
    assert httpx.get(url, params={"fields": "entityId"}, headers={"Authorization": header}).status_code == 200
    header = _tba_header(url, "GET", creds, nonce="q-2")  # signed without the query parameter
    assert httpx.get(url, params={"fields": "entityId"}, headers={"Authorization": header}).status_code == 401
