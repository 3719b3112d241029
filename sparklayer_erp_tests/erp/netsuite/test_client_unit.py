"""The REST client at the HTTP edge: governance retries, the concurrency cap, error parsing, SuiteQL paging,
401 handling, and secrets kept out of logs and exception texts."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

from sparklayer_erp.erp.netsuite.client import record_id_from_location
from sparklayer_erp.erp.netsuite.errors import NetSuiteApiError, NetSuiteAuthError, is_duplicate, parse_error
from sparklayer_erp.erp.netsuite.queries import Query
from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp_tests.erp.netsuite.support import (
    ACCESS_TOKEN,
    CONSUMER_SECRET,
    TOKEN_SECRET,
    FakeNetSuite,
    concurrency_429,
    error_body,
    json_of,
    oauth_config,
    pem,
    rsa_key,
    tba_config,
)


def _scripted(*responses: httpx.Response | Exception):
    """Answers in order, then repeats the last one."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item
    return handler


def test_429_concurrency_limit_is_retried_with_growing_jittered_backoff():
    fake = FakeNetSuite(_scripted(concurrency_429(), concurrency_429(), concurrency_429(),
                                  httpx.Response(200, json={"id": "7"})))
    sleeps: list[float] = []
    client = fake.client(tba_config(), sleeps, rng=lambda: 1.0)
    assert client.get("customer", 7) == {"id": "7"}
    assert len(fake.requests) == 4
    assert sleeps == sorted(sleeps) and sleeps[0] < sleeps[-1]
    assert sleeps[0] >= 0.25  # the first retry is delayed, never immediate


def test_jitter_spreads_the_delays_of_parallel_workers():
    delays = set()
    for r in (0.0, 0.3, 0.9):
        fake = FakeNetSuite(_scripted(concurrency_429(), httpx.Response(200, json={})))
        sleeps: list[float] = []
        fake.client(tba_config(), sleeps, rng=lambda r=r: r).get("customer", 1)
        delays.add(sleeps[0])
    assert len(delays) == 3


def test_retries_give_up_with_a_technical_error_naming_the_code():
    fake = FakeNetSuite(_scripted(concurrency_429()))
    sleeps: list[float] = []
    client = fake.client(tba_config(max_retries=3), sleeps)
    with pytest.raises(ErpTechnicalError) as info:
        client.get("customer", 1)
    assert "CONCURRENCY_LIMIT_EXCEEDED" in str(info.value)
    assert len(fake.requests) == 4 and len(sleeps) == 3


def test_unexpected_error_and_transport_failures_are_retried():
    fake = FakeNetSuite(_scripted(
        httpx.Response(500, json=error_body(500, "UNEXPECTED_ERROR", "An unexpected error occurred. Error ID: x")),
        httpx.ConnectError("connection reset"),
        httpx.Response(204, headers={"Location": "https://h/services/rest/record/v1/salesOrder/5501"}),
    ))
    client = fake.client(tba_config())
    assert client.upsert("salesOrder", "P-1", {"entity": {"id": "1"}}) == "5501"
    assert len(fake.requests) == 3


def test_retry_after_is_honoured_when_present():
    fake = FakeNetSuite(_scripted(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={})))
    sleeps: list[float] = []
    fake.client(tba_config(), sleeps, rng=lambda: 0.0).get("customer", 1)
    assert sleeps == [7.0]


def test_user_errors_are_not_retried_and_carry_code_detail_and_path():
    body = error_body(400, "INVALID_CONTENT", "Error while accessing resource: You have entered an Invalid Field "
                      "Value 9999 for the following field: item", **{"o:errorPath": "item.items[0].item"})
    fake = FakeNetSuite(_scripted(httpx.Response(400, json=body)))
    sleeps: list[float] = []
    with pytest.raises(NetSuiteApiError) as info:
        fake.client(tba_config(), sleeps).patch("salesOrder", 5501, {"item": {"items": []}})
    err = info.value
    assert (err.status, err.code, err.details[0].path) == (400, "INVALID_CONTENT", "item.items[0].item")
    assert "Invalid Field Value 9999" in err.detail and isinstance(err, ErpTechnicalError)
    assert sleeps == [] and len(fake.requests) == 1


def test_error_parsing_of_documented_bodies():
    request = httpx.Request("POST", "https://h/services/rest/query/v1/suiteql")
    four29 = parse_error(concurrency_429(), "GET", "/x")
    assert four29.codes == ("CONCURRENCY_LIMIT_EXCEEDED", "USER_ERROR")
    suiteql = parse_error(httpx.Response(400, request=request, json=error_body(
        400, "INVALID_PARAMETER", "Invalid search query. Detailed unprocessed description follows. Search error "
        "occurred: Unknown identifier 'subsidiary'.", **{"o:errorQueryParam": "q"})), "POST", "/query")
    assert suiteql.code == "INVALID_PARAMETER" and suiteql.details[0].query_param == "q"
    duplicate = parse_error(httpx.Response(400, json=error_body(
        400, "USER_ERROR", "Error while accessing a resource. This record already exists.")), "POST", "/x")
    assert is_duplicate(duplicate)
    not_json = parse_error(httpx.Response(502, text="<html>Bad gateway</html>"), "GET", "/x")
    assert not_json.status == 502 and not_json.codes == () and "Bad gateway" in not_json.detail
    token = parse_error(httpx.Response(400, json={"error": "invalid_grant", "error_description": "expired"}),
                        "POST", "/token")
    assert token.code == "invalid_grant"


def test_missing_record_reads_as_none():
    fake = FakeNetSuite(_scripted(httpx.Response(404, json=error_body(
        404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record instance ID."))))
    assert fake.client(tba_config()).get("salesOrder", "eid:P-404") is None


def test_location_header_gives_the_new_id():
    assert record_id_from_location("https://h/services/rest/record/v1/salesOrder/5501") == "5501"
    assert record_id_from_location(None) is None


def test_client_side_concurrency_cap_is_honoured():
    in_flight = [0]
    peak = [0]
    lock = threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.03)
        with lock:
            in_flight[0] -= 1
        return httpx.Response(200, json={})

    client = FakeNetSuite(slow).client(tba_config(concurrency=3))
    threads = [threading.Thread(target=client.get, args=("customer", i)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3


def test_suiteql_pages_with_limit_offset_and_prefer_transient():
    total = 2500

    def pages(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        rows = [{"links": [], "id": str(i)} for i in range(offset, min(offset + limit, total))]
        return httpx.Response(200, json={"links": [], "count": len(rows), "offset": offset, "totalResults": total,
                                         "hasMore": offset + limit < total, "items": rows})

    fake = FakeNetSuite(pages)
    rows = fake.client(tba_config()).suiteql(Query("SELECT t.id FROM transaction t WHERE t.type = ? ORDER BY t.id",
                                                   ("SalesOrd",)))
    assert [r["id"] for r in rows] == [str(i) for i in range(total)]
    assert all("links" not in r for r in rows)
    assert [r.url.params["offset"] for r in fake.requests] == ["0", "1000", "2000"]
    assert {r.url.params["limit"] for r in fake.requests} == {"1000"}
    assert all(r.headers["Prefer"] == "transient" for r in fake.requests)
    assert json_of(fake.requests[0]) == {"q": "SELECT t.id FROM transaction t WHERE t.type = ? ORDER BY t.id",
                                         "params": ["SalesOrd"]}


def test_suiteql_beyond_the_row_cap_raises_instead_of_truncating():
    fake = FakeNetSuite(lambda r: httpx.Response(200, json={"items": [{"id": "1"}], "hasMore": True}))
    with pytest.raises(ErpTechnicalError, match="100000"):
        fake.client(tba_config()).suiteql(Query("SELECT c.id FROM customer c ORDER BY c.id"))


def test_401_fetches_a_new_token_once_then_gives_up():
    invalid = httpx.Response(401, json=error_body(401, "INVALID_LOGIN", "Invalid login attempt."))
    fake = FakeNetSuite(_scripted(invalid, httpx.Response(200, json={"id": "1"})))
    client = fake.client(oauth_config())
    assert client.get("customer", 1) == {"id": "1"}
    assert len(fake.token_requests) == 2
    assert all(r.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}" for r in fake.requests)

    always = FakeNetSuite(_scripted(invalid))
    with pytest.raises(NetSuiteAuthError):
        always.client(oauth_config()).get("customer", 1)
    assert len(always.token_requests) == 2 and len(always.requests) == 2


def test_write_requests_ask_netsuite_to_reject_unknown_fields():
    fake = FakeNetSuite()
    fake.client(tba_config()).patch("salesOrder", 1, {"orderStatus": {"id": "B"}})
    assert fake.requests[0].headers["X-NetSuite-PropertyNameValidation"] == "Error"


@pytest.mark.parametrize("auth", ["oauth2", "tba"])
def test_no_secret_reaches_logs_or_exception_texts(auth, caplog):
    key_pem = pem(rsa_key())
    key_body = "".join(key_pem.splitlines()[1:-1])[:64]
    config = oauth_config() if auth == "oauth2" else tba_config()
    secrets = [ACCESS_TOKEN] if auth == "oauth2" else [CONSUMER_SECRET, TOKEN_SECRET]
    echo = f"bad request from {' / '.join(secrets)}"  # a server echoing the credentials it was sent
    fake = FakeNetSuite(_scripted(
        concurrency_429(), httpx.Response(400, json=error_body(400, "USER_ERROR", echo))))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NetSuiteApiError) as info:
        fake.client(config).create("salesOrder", {"externalId": "P-1"})
    texts = [str(info.value), repr(info.value), repr(config), str(config), caplog.text,
             *(str(r.getMessage()) for r in caplog.records)]
    assertions = [f["client_assertion"] for f in fake.token_requests]
    assert len(assertions) == (1 if auth == "oauth2" else 0)
    for secret in (*secrets, key_body, *assertions):
        assert all(secret not in t for t in texts), secret
    assert "HTTP Request" in caplog.text or caplog.records  # the logs were really captured
