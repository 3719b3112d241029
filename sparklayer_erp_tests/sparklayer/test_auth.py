"""The access token against the sandbox: cached, renewed before expiry, renewed once on a 401."""

from __future__ import annotations

import httpx
import pytest

import sparklayer_erp
from sparklayer_erp.demo.sandbox.server import SandboxHandle
from sparklayer_erp.sparklayer import contract
from sparklayer_erp.sparklayer.client import DEFAULT_USER_AGENT, SparkLayerClient
from sparklayer_erp.sparklayer.clock import ManualClock
from sparklayer_erp.sparklayer.errors import SparkLayerAuthError

from .conftest import MakeClient


def test_token_is_cached_then_renewed_shortly_before_expiry(
    client: SparkLayerClient, clock: ManualClock
) -> None:
    client.list_stock_locations()
    client.list_customer_groups()
    assert client.stats.token_fetches == 1
    first = client.get_token()

    clock.advance(contract.TOKEN_LIFETIME_S - contract.TOKEN_RENEW_BEFORE_S - 1)
    client.list_stock_locations()
    assert client.stats.token_fetches == 1  # one second before the renewal point: still cached

    clock.advance(1)
    client.list_stock_locations()
    assert client.stats.token_fetches == 2  # renewed ahead of expiry, not after a 401
    assert client.stats.auth_renewals == 0
    assert client.get_token() != first


def test_revoked_token_is_renewed_once_and_the_call_retried(
    client: SparkLayerClient, sandbox: SandboxHandle
) -> None:
    client.list_stock_locations()
    sandbox.admin.set_faults(revoke_tokens=True)
    assert [g.slug for g in client.list_customer_groups()][:1] == [contract.BASE_GROUP]
    assert client.stats.auth_renewals == 1
    assert client.stats.token_fetches == 2
    assert client.stats.retries == 0  # the 401 renewal is not a back-off retry


def test_early_expiring_token_is_renewed_by_the_401_path(
    client: SparkLayerClient, sandbox: SandboxHandle
) -> None:
    """The server says 3600 s but the token is already dead: the client only finds out from the 401."""
    sandbox.admin.set_faults(token_lifetime_s=0)
    client.get_token()  # issued already dead
    sandbox.admin.clear_faults()
    client.list_stock_locations()
    assert (client.stats.auth_renewals, client.stats.token_fetches) == (1, 2)


def test_a_401_that_renewal_does_not_fix_is_raised_after_exactly_one_renewal(
    client: SparkLayerClient, sandbox: SandboxHandle
) -> None:
    sandbox.admin.set_faults(token_lifetime_s=0)  # every token is dead on arrival
    with pytest.raises(SparkLayerAuthError) as caught:
        client.list_stock_locations()
    assert caught.value.status == 401
    assert (client.stats.auth_renewals, client.stats.token_fetches) == (1, 2)
    assert client.stats.requests == 4  # token, call, token, call — no more


def test_wrong_secret_is_an_auth_error_without_retries(make_client: MakeClient, clock: ManualClock) -> None:
    client = make_client(client_secret="not-the-secret")
    with pytest.raises(SparkLayerAuthError) as caught:
        client.list_stock_locations()
    assert caught.value.status == 401
    assert client.stats.requests == 1 and clock.sleeps == []
    assert "not-the-secret" not in str(caught.value) + repr(caught.value)


def test_every_call_carries_bearer_site_id_and_user_agent() -> None:
    """Edge unit test on a MockTransport: the sandbox does not echo headers back."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/auth/token":
            return httpx.Response(200, json={"access_token": "tok-1", "expires_in": 3600})
        return httpx.Response(200, json=[])

    client = SparkLayerClient(
        "http://sparklayer.test", "site-9", "cid", "sec", clock=ManualClock(), requests_per_second=None,
        transport=httpx.MockTransport(handler),
    )
    client.list_stock_locations()
    token_request, call = seen
    assert token_request.headers["Site-Id"] == "site-9"
    assert token_request.headers["Content-Type"] == "application/json"
    assert token_request.content == (
        b'{"grant_type":"client_credentials","client_id":"cid","client_secret":"sec"}'
    )
    assert call.headers["Authorization"] == "Bearer tok-1"
    assert call.headers["Site-Id"] == "site-9"
    assert call.headers["User-Agent"] == DEFAULT_USER_AGENT
    expected = f"sparklayer-erp/{sparklayer_erp.__version__} (+https://github.com/sparklayer-erp)"
    assert expected == DEFAULT_USER_AGENT
