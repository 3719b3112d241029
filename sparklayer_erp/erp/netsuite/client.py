"""The SuiteTalk REST client: authentication, governance (retries, concurrency cap), the record service and
SuiteQL paging. It speaks NetSuite's terms; the adapter turns them into the port's.

Governance: NetSuite allows an account-wide number of concurrent requests and answers 429
``CONCURRENCY_LIMIT_EXCEEDED`` above it. The client holds at most ``config.concurrency`` requests in flight
(a semaphore shared by every thread using it) and retries 429, ``UNEXPECTED_ERROR``, 5xx and transport
failures with exponential back-off and full jitter (so parallel workers do not retry in step), honouring a
``Retry-After`` header if one ever comes. After ``config.max_retries`` it raises ``ErpTechnicalError``.
A 401 drops the cached OAuth 2.0 token and retries once with a new one.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from sparklayer_erp.erp.netsuite import conventions as conv
from sparklayer_erp.erp.netsuite.auth import OAuth2Token, TbaSigner
from sparklayer_erp.erp.netsuite.config import NetSuiteConfig
from sparklayer_erp.erp.netsuite.errors import (
    NetSuiteApiError,
    NetSuiteAuthError,
    NetSuiteNotFound,
    is_retryable,
    parse_error,
    scrub,
)
from sparklayer_erp.erp.netsuite.queries import Query
from sparklayer_erp.erp.port import ErpTechnicalError

log = logging.getLogger(__name__)

RECORD = "/record/v1"
SUITEQL = "/query/v1/suiteql"


def record_id_from_location(location: str | None) -> str | None:
    """The internal id at the end of a ``Location`` header (``…/salesOrder/5501`` -> ``"5501"``)."""
    if not location:
        return None
    last = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    return last or None


class NetSuiteHttp:
    """One account's REST client. Thread-safe: the adapter runs per-record reads in a small pool."""

    def __init__(
        self,
        config: NetSuiteConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._rng = rng
        self._http = httpx.Client(
            base_url=config.rest_root, timeout=config.timeout, transport=transport,
            headers={"Accept": "application/json"},
        )
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._oauth: OAuth2Token | None = None
        self._tba: TbaSigner | None = None
        if config.auth == "oauth2":
            self._oauth = OAuth2Token(config, self._fetch_token, clock=clock)
        else:
            self._tba = TbaSigner(config, clock=clock)
        self.stats = {"requests": 0, "retries": 0, "token_fetches": 0}

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ plumbing

    def _secrets(self) -> tuple[str, ...]:
        extra = self._oauth.current_secrets() if self._oauth else ()
        return self.config.secrets() + extra

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Full-jitter exponential back-off; a numeric ``Retry-After`` is a floor."""
        ceiling = min(conv.BACKOFF_CAP_S, conv.BACKOFF_BASE_S * (2 ** attempt))
        delay = ceiling * (0.5 + 0.5 * self._rng())
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = max(delay, min(float(retry_after), conv.BACKOFF_CAP_S))
        return delay

    def _fetch_token(self, form: dict[str, str]) -> Mapping[str, object]:
        """POST the client assertion to the token endpoint (governed like any request, never logged)."""
        self.stats["token_fetches"] += 1
        response = self._send("POST", self.config.token_url, authorize=False, data=form)
        try:
            body = response.json()
        except ValueError:
            raise ErpTechnicalError("the NetSuite token endpoint answered something that is not JSON") from None
        return body if isinstance(body, dict) else {}

    def _authorization(self, method: str, url: str) -> str:
        if self._oauth is not None:
            return self._oauth.header()
        assert self._tba is not None
        return self._tba.header(method, url)

    def _send(self, method: str, url: str, *, authorize: bool = True, params: Mapping[str, Any] | None = None,
              json: Any = None, data: Mapping[str, str] | None = None,
              headers: Mapping[str, str] | None = None) -> httpx.Response:
        """One logical request: cap, auth, retries. Returns a 2xx response or raises."""
        path = urlsplit(url).path if url.startswith("http") else url
        reauthorised = False
        attempt = 0
        while True:
            request = self._http.build_request(method, url, params=params, json=json, data=data, headers=headers)
            if authorize:
                request.headers["Authorization"] = self._authorization(method, str(request.url))
            failure: NetSuiteApiError | None = None
            retry_after: str | None = None
            with self._slots:
                self.stats["requests"] += 1
                try:
                    response = self._http.send(request)
                except httpx.TransportError as err:
                    response = None
                    transport_error: Exception | None = err
                else:
                    transport_error = None
            if response is not None:
                if response.status_code < 400:
                    return response
                failure = parse_error(response, method, path, self._secrets())
                retry_after = response.headers.get("Retry-After")
                if isinstance(failure, NetSuiteAuthError) and authorize and self._oauth and not reauthorised:
                    reauthorised = True
                    self._oauth.invalidate(request.headers.get("Authorization"))
                    continue
                if not is_retryable(failure):
                    raise failure
            # a lost answer is retried for every method: PUT eid:/PATCH repeat harmlessly, SuiteQL is a read,
            # and the only POST that writes (a payment transform) carries an external id NetSuite refuses twice
            if attempt >= self.config.max_retries:
                what = (str(failure) if failure is not None
                        else f"NetSuite {method} {path}: {type(transport_error).__name__}")
                raise ErpTechnicalError(f"{what} (gave up after {attempt + 1} attempts)") from None
            delay = self._delay(attempt, retry_after)
            log.info("NetSuite %s %s: %s; retry %d in %.1fs", method, path,
                     failure.code or failure.status if failure is not None else type(transport_error).__name__,
                     attempt + 1, delay)
            self.stats["retries"] += 1
            attempt += 1
            self._sleep(delay)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self._send(method, path, params=params, json=json, headers=headers)

    # ------------------------------------------------------------------ record service

    def _write_headers(self) -> dict[str, str]:
        return {"X-NetSuite-PropertyNameValidation": conv.PROPERTY_NAME_VALIDATION}

    def get(self, record_type: str, record_id: str | int, **params: Any) -> dict[str, Any] | None:
        """A record (``record_id`` may be ``eid:<external id>``); None if it does not exist."""
        try:
            response = self.request("GET", f"{RECORD}/{record_type}/{record_id}", params=params or None)
        except NetSuiteNotFound:
            return None
        body = response.json()
        if not isinstance(body, dict):
            raise ErpTechnicalError(f"NetSuite GET {record_type}/{record_id}: not a record")
        return body

    def create(self, record_type: str, body: Mapping[str, Any]) -> str | None:
        """POST; the new internal id from ``Location``."""
        response = self.request("POST", f"{RECORD}/{record_type}", json=body, headers=self._write_headers())
        return record_id_from_location(response.headers.get("Location"))

    def upsert(self, record_type: str, external_id: str, body: Mapping[str, Any], **params: Any) -> str | None:
        """PUT ``eid:``: create if absent, update if present (``Location`` is not confirmed on PUT)."""
        response = self.request("PUT", f"{RECORD}/{record_type}/eid:{external_id}", json=body,
                                params=params or None, headers=self._write_headers())
        return record_id_from_location(response.headers.get("Location"))

    def patch(self, record_type: str, record_id: str | int, body: Mapping[str, Any], **params: Any) -> None:
        self.request("PATCH", f"{RECORD}/{record_type}/{record_id}", json=body, params=params or None,
                     headers=self._write_headers())

    def transform(self, record_type: str, record_id: str | int, target: str,
                  body: Mapping[str, Any] | None = None) -> str | None:
        """``!transform``: the new record's id from ``Location`` (not confirmed: may be None)."""
        response = self.request("POST", f"{RECORD}/{record_type}/{record_id}/!transform/{target}",
                                json=dict(body or {}), headers=self._write_headers())
        return record_id_from_location(response.headers.get("Location"))

    def delete(self, record_type: str, record_id: str | int) -> None:
        self.request("DELETE", f"{RECORD}/{record_type}/{record_id}")

    # ------------------------------------------------------------------ SuiteQL

    def suiteql_pages(self, query: Query) -> Iterator[list[dict[str, Any]]]:
        """Pages of rows (limit 1000, ``offset += limit`` while ``hasMore``). A query that would pass
        NetSuite's 100,000-row cap raises: the caller must narrow it, never read a silent truncation."""
        offset = 0
        body: dict[str, Any] = {"q": query.q}
        if query.params:
            body["params"] = list(query.params)
        while True:
            response = self.request(
                "POST", SUITEQL, params={"limit": conv.SUITEQL_PAGE, "offset": offset}, json=body,
                headers={"Prefer": "transient"},
            )
            page = response.json()
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise ErpTechnicalError("NetSuite SuiteQL answered without an items list")
            rows = [{k: v for k, v in item.items() if k != "links"} for item in page["items"]
                    if isinstance(item, dict)]
            yield rows
            if not page.get("hasMore"):
                return
            offset += conv.SUITEQL_PAGE
            if offset >= conv.SUITEQL_MAX_ROWS:
                raise ErpTechnicalError(
                    f"SuiteQL query has more than {conv.SUITEQL_MAX_ROWS} rows; it must be narrowed"
                )

    def suiteql(self, query: Query) -> list[dict[str, Any]]:
        return [row for page in self.suiteql_pages(query) for row in page]

    def suiteql_chunked(self, build: Callable[[Sequence[Any]], Query], values: Sequence[Any],
                        chunk: int) -> list[dict[str, Any]]:
        """One query per ``chunk`` values of an IN list, rows concatenated (no query for no values)."""
        values = list(dict.fromkeys(values))
        out: list[dict[str, Any]] = []
        for start in range(0, len(values), chunk):
            out.extend(self.suiteql(build(values[start:start + chunk])))
        return out

    def scrubbed(self, text: str) -> str:
        return scrub(text, self._secrets())
