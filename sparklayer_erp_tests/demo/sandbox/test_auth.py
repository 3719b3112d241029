"""Token endpoint and the Bearer + Site-Id gate, over loopback HTTP."""

from __future__ import annotations

import httpx

from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp_tests.demo.sandbox.helpers import CREDENTIALS, SITE, new_token

TOKEN = "/api/auth/token"


def _get(sandbox: SandboxHandle, token: str | None, site: str | None = SITE) -> httpx.Response:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if site is not None:
        headers["Site-Id"] = site
    return httpx.get(f"{sandbox.base_url}/api/v1/customer-groups", headers=headers)


def test_token_grant_answers_documented_fields_and_opens_the_api(sandbox: SandboxHandle) -> None:
    response = httpx.post(sandbox.base_url + TOKEN, headers={"Site-Id": SITE}, json=CREDENTIALS)
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer" and len(body["access_token"]) > 20
    assert _get(sandbox, body["access_token"]).status_code == 200


def test_wrong_secret_wrong_client_or_wrong_site_is_401_without_echoing_the_secret(sandbox: SandboxHandle) -> None:
    for site, changes in ((SITE, {"client_secret": "nope-secret-123"}), (SITE, {"client_id": "other"}),
                          ("other-site", {})):
        response = httpx.post(sandbox.base_url + TOKEN, headers={"Site-Id": site}, json={**CREDENTIALS, **changes})
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "nope-secret-123" not in response.text and "demo-secret" not in response.text


def test_form_encoded_token_request_is_refused(sandbox: SandboxHandle) -> None:
    response = httpx.post(sandbox.base_url + TOKEN, headers={"Site-Id": SITE}, data=CREDENTIALS)
    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported-media-type"


def test_token_request_without_site_id_or_with_wrong_grant_is_400(sandbox: SandboxHandle) -> None:
    assert httpx.post(sandbox.base_url + TOKEN, json=CREDENTIALS).status_code == 400
    response = httpx.post(sandbox.base_url + TOKEN, headers={"Site-Id": SITE},
                          json={**CREDENTIALS, "grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "grant_type"


def test_api_calls_need_a_known_token_and_the_matching_site(sandbox: SandboxHandle) -> None:
    token = new_token(sandbox.base_url)
    assert _get(sandbox, None).status_code == 401
    assert _get(sandbox, "made-up-token").status_code == 401
    assert _get(sandbox, token, site=None).status_code == 401
    other_site = _get(sandbox, token, site="someone-elses-site")
    assert other_site.status_code == 403
    assert other_site.json()["status"] == 403


def test_early_expiry_kills_tokens_that_still_advertise_an_hour(sandbox: SandboxHandle) -> None:
    sandbox.admin.set_faults(token_lifetime_s=0)
    response = httpx.post(sandbox.base_url + TOKEN, headers={"Site-Id": SITE}, json=CREDENTIALS)
    assert response.json()["expires_in"] == 3600
    assert _get(sandbox, response.json()["access_token"]).status_code == 401
    sandbox.admin.clear_faults()
    assert _get(sandbox, new_token(sandbox.base_url)).status_code == 200


def test_revoking_all_tokens_makes_every_issued_token_401(sandbox: SandboxHandle) -> None:
    first, second = new_token(sandbox.base_url), new_token(sandbox.base_url)
    assert _get(sandbox, first).status_code == 200
    snapshot = sandbox.admin.set_faults(revoke_tokens=True)
    assert snapshot["revoked_tokens"] >= 2
    assert _get(sandbox, first).status_code == 401 and _get(sandbox, second).status_code == 401
    assert _get(sandbox, new_token(sandbox.base_url)).status_code == 200
