"""The one SparkLayer client the integration uses (sync httpx; Dagster-free — resources.py wraps it).

What it takes care of so that callers do not: the client-credentials token (cached once per process for
every client of the same base URL, site and client id — ``TokenCache`` — renewed
``contract.TOKEN_RENEW_BEFORE_S`` before expiry, renewed once on a 401), the headers every call needs,
typed errors from RFC 7807 bodies, the retry rules (``retry``), client-side pacing that backs off on 429s and
recovers (``ratelimit.AdaptivePacer``, shared per process like the token), the two
pagination styles, batching with progress logs, and exact Decimal money on the wire (``wire``).

Idempotency: every PUT/PATCH here is idempotent by the API's semantics (full replace, replace-per-SKU,
upsert), and so is ``POST /api/v1/batch-update-stock`` (upsert per SKU+location) and the read-only
``batch-fetch-stock``. The non-idempotent calls are the creates (price list, customer group, stock
location) and ``add_purchase_history`` (a second POST adds a second note): they are re-sent only when the
server provably did not act (429, concurrent-update 409, connection refused) — never after a 5xx or a read
timeout.

The client secret and access tokens never appear in logs, reprs or exception text: the secret is held in a
wrapper whose repr is masked, error bodies are scrubbed of both before they become messages, and transport
errors are re-raised without their (header-carrying) httpx request attached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import random
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

import sparklayer_erp
from sparklayer_erp.sparklayer import contract, wire
from sparklayer_erp.sparklayer.batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PROGRESS_EVERY,
    ProgressLog,
    PushReport,
    chunked,
    known_length,
)
from sparklayer_erp.sparklayer.clock import Clock, SystemClock
from sparklayer_erp.sparklayer.errors import (
    SparkLayerAuthError,
    SparkLayerError,
    SparkLayerNotFound,
    error_from_response,
)
from sparklayer_erp.sparklayer.models import (
    Customer,
    CustomerGroup,
    GroupSettings,
    JsonDict,
    PriceList,
    PriceListRule,
    PricingRow,
    Purchase,
    StockLevelRow,
    StockLocation,
    SyncLogEntry,
    Transaction,
    VariantSetting,
    strip_calculated,
)
from sparklayer_erp.sparklayer.ratelimit import AdaptivePacer
from sparklayer_erp.sparklayer.retry import RetryPolicy, TransportFailure, parse_retry_after

log = logging.getLogger("sparklayer_erp.sparklayer")

DEFAULT_USER_AGENT = f"sparklayer-erp/{sparklayer_erp.__version__} (+https://github.com/sparklayer-erp)"
TOKEN_PATH = "/api/auth/token"
_MASK = "***"
# Keys a purchase PUT must carry (documented as required); a body without them is a partial body, and a
# partial body on a full-replace endpoint clears data.
_PURCHASE_REQUIRED = (
    "type", "purchase_identifiers", "customer_identifiers", "dates", "packages", "accounting_files",
    "custom_fields",
)


class _Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return _MASK

    __str__ = __repr__


@dataclass
class ClientStats:
    """Counters for operators and the benchmark (HTTP requests include token fetches and retries)."""

    requests: int = 0
    token_fetches: int = 0
    auth_renewals: int = 0  # 401 answered by renewing the token
    retries: int = 0
    retry_wait_s: float = 0.0
    rate_limit_wait_s: float = 0.0


@dataclass(frozen=True)
class UpsertedCustomer:
    customer: Customer
    created: bool  # 201 vs 200


@dataclass
class _Token:
    value: _Secret
    renew_at: float  # on the client's monotonic clock


_FINGERPRINT_KEY = os.urandom(32)  # per process: a fingerprint is useless outside it


def _fingerprint(secret: str) -> bytes:
    """Tells two secrets apart without keeping either (a keyed hash, never logged)."""
    return hmac.new(_FINGERPRINT_KEY, secret.encode("utf-8"), hashlib.sha256).digest()


class TokenCache:
    """The access token of one (base URL, site id, client id), shared by every client in the process.

    A sensor builds a client per tick; with the cache they all use one token until it is due for renewal
    (``contract.TOKEN_RENEW_BEFORE_S`` before expiry) instead of fetching one per tick. The secret is not
    part of the key: the entry remembers a keyed fingerprint of the secret that fetched the token and a client
    holding another secret never gets it (it fetches its own, replacing the entry). ``lock`` serialises the
    fetches of every thread (sensors run in threads); the old tokens are kept only to scrub error text.
    """

    _registry: dict[tuple[str, str, str, int], TokenCache] = {}
    _registry_lock = threading.Lock()

    def __init__(self, clock: Clock) -> None:
        self.clock = clock  # renew_at is on this clock; also keeps id(clock) in the key unique
        self.lock = threading.Lock()
        self.token: _Token | None = None
        self.fingerprint: bytes | None = None
        self.old_tokens: list[_Secret] = []

    def __repr__(self) -> str:
        return f"TokenCache(cached={self.token is not None})"

    @classmethod
    def shared(cls, base_url: str, site_id: str, client_id: str, clock: Clock) -> TokenCache:
        """The process's cache for this API client (one per clock too: expiry is measured on it)."""
        key = (base_url, site_id, client_id, id(clock))
        with cls._registry_lock:
            cache = cls._registry.get(key)
            if cache is None or cache.clock is not clock:
                cache = cls._registry[key] = cls(clock)
            return cache

    @classmethod
    def clear_all(cls) -> None:
        """Forget every cached token of the process (tests; a rotated secret also replaces its entry)."""
        with cls._registry_lock:
            cls._registry.clear()

    def valid_for(self, fingerprint: bytes) -> _Token | None:
        token = self.token
        if token is None or self.fingerprint != fingerprint or self.clock.monotonic() >= token.renew_at:
            return None
        return token

    def store(self, token: _Token, fingerprint: bytes) -> None:
        if self.token is not None:
            self.old_tokens.append(self.token.value)
            del self.old_tokens[:-5]
        self.token, self.fingerprint = token, fingerprint

    def known_tokens(self) -> list[str]:
        current = [self.token.value.reveal()] if self.token is not None else []
        return [*(t.reveal() for t in self.old_tokens), *current]


SYSTEM_CLOCK = SystemClock()  # the one real clock, so every real client shares one token per API client


def _seg(value: str) -> str:
    """One URL path segment (SKUs may contain '/', emails '@' and '+')."""
    return urllib.parse.quote(str(value), safe="")


def _check_lookup(lookup_by: str, allowed: Sequence[str]) -> None:
    if lookup_by not in allowed:
        raise ValueError(f"lookup_by must be one of {', '.join(allowed)}; got {lookup_by!r}")


class SparkLayerClient:
    def __init__(
        self,
        base_url: str,
        site_id: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_total_wait_s: float = 120.0,
        requests_per_second: float | None = 10.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        clock: Clock | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        pricing_batch_size: int = DEFAULT_BATCH_SIZE,
        stock_batch_size: int = DEFAULT_BATCH_SIZE,
        progress_every: int = DEFAULT_PROGRESS_EVERY,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``requests_per_second=None`` turns client-side pacing off (the server's 429s are still honoured, by
        the retrying request alone); otherwise it is the ceiling the adaptive pace recovers to.
        ``transport`` exists for edge unit tests only; real use and the test suite go over HTTP."""
        self.base_url = base_url.rstrip("/")
        self.site_id = site_id
        self.client_id = client_id
        self._secret = _Secret(client_secret)
        self._fingerprint = _fingerprint(client_secret)
        self._clock = clock or SYSTEM_CLOCK
        self._rng = rng or random.Random()
        self._policy = RetryPolicy(max_attempts, max_total_wait_s, backoff_initial_s, backoff_max_s)
        self._pacer = (
            AdaptivePacer.shared(self.base_url, site_id, requests_per_second, self._clock)
            if requests_per_second is not None
            else None
        )
        self.pricing_batch_size = pricing_batch_size
        self.stock_batch_size = stock_batch_size
        self.progress_every = progress_every
        self.stats = ClientStats()
        self._tokens = TokenCache.shared(self.base_url, site_id, client_id, self._clock)
        self._stats_lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": user_agent, "Site-Id": site_id, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"SparkLayerClient(base_url={self.base_url!r}, site_id={self.site_id!r})"

    @property
    def pacer(self) -> AdaptivePacer | None:
        """The process-wide pace of this site (None when client-side pacing is off)."""
        return self._pacer

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SparkLayerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ token

    def get_token(self) -> str:
        """A valid access token (cached for the process; renewed ``TOKEN_RENEW_BEFORE_S`` before it expires)."""
        cache = self._tokens
        with cache.lock:
            token = cache.valid_for(self._fingerprint)
            if token is None:
                token = self._fetch_token()
                cache.store(token, self._fingerprint)
            return token.value.reveal()

    def _renew_token_after_401(self, rejected: str) -> str:
        cache = self._tokens
        with cache.lock:
            # Another client or thread may already have renewed it; only fetch if the cached one was rejected.
            token = cache.token if cache.fingerprint == self._fingerprint else None
            if token is None or token.value.reveal() == rejected:
                token = self._fetch_token()
                cache.store(token, self._fingerprint)
            return token.value.reveal()

    def _fetch_token(self) -> _Token:
        body = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret.reveal(),
        }
        response = self._send("POST", TOKEN_PATH, content=wire.dumps(body), token=None)
        with self._stats_lock:
            self.stats.token_fetches += 1
        if response.status_code != 200:
            raise self._error(response, "POST", TOKEN_PATH)
        doc = wire.loads(response.content)
        value = doc.get("access_token") if isinstance(doc, Mapping) else None
        if not value:
            raise SparkLayerAuthError(
                "SparkLayer token answer had no access_token", status=200, path=TOKEN_PATH
            )
        expires_in = float(doc.get("expires_in") or contract.TOKEN_LIFETIME_S)
        log.debug("obtained SparkLayer access token (expires in %.0fs)", expires_in)
        # renew TOKEN_RENEW_BEFORE_S ahead; a token shorter-lived than that is renewed at half-life instead
        lead = max(expires_in - contract.TOKEN_RENEW_BEFORE_S, expires_in / 2)
        renew_at = self._clock.monotonic() + lead
        return _Token(_Secret(str(value)), renew_at)

    # ------------------------------------------------------------------------------------- transport

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        token: str | None,
    ) -> httpx.Response:
        """One HTTP request (a JSON ``content``), paced by the bucket; transport failures become
        ``TransportFailure``."""
        if self._pacer is not None:
            waited = self._pacer.acquire()
            if waited:
                with self._stats_lock:
                    self.stats.rate_limit_wait_s += waited
        headers = {}
        if token is not None:
            headers["Authorization"] = f"{contract.TOKEN_TYPE} {token}"
        if content is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        with self._stats_lock:
            self.stats.requests += 1
        failure: TransportFailure | None = None
        try:
            response = self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.TransportError as exc:
            never_arrived = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            message = f"SparkLayer {method} {path}: no answer ({type(exc).__name__}: {self._scrub(str(exc))})"
            failure = TransportFailure(message, maybe_processed=not never_arrived, method=method, path=path)
        if failure is not None:
            # raised outside the except block: no __context__ pointing at httpx's request and its headers
            raise failure
        log.debug(
            "%s %s -> %d (%d bytes, %.0f ms)",
            method,
            path,
            response.status_code,
            len(response.content),
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        ok: Sequence[int],
    ) -> httpx.Response:
        token = self.get_token()
        response = self._send(method, path, params=params, content=content, token=token)
        if response.status_code == 401:
            log.info("SparkLayer %s %s -> 401; renewing the access token once", method, path)
            with self._stats_lock:
                self.stats.auth_renewals += 1
            token = self._renew_token_after_401(token)
            response = self._send(method, path, params=params, content=content, token=token)
        if response.status_code in ok or (200 <= response.status_code < 300 and not ok):
            if self._pacer is not None:
                self._pacer.succeeded()
            return response
        error = self._error(response, method, path)
        if self._pacer is not None and response.status_code == 429:
            self._pacer.throttled(getattr(error, "retry_after_s", None))
        raise error

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool = True,
        ok: Sequence[int] = (),
    ) -> httpx.Response:
        """Send with the retry rules; returns a response whose status is in ``ok`` (default: any 2xx)."""
        describe = f"SparkLayer {method} {path}"

        def note_retry(wait_s: float) -> None:
            with self._stats_lock:
                self.stats.retries += 1
                self.stats.retry_wait_s += wait_s

        retrying = self._policy.retrying(
            idempotent=idempotent, clock=self._clock, rng=self._rng, describe=describe, on_retry=note_retry
        )
        content = wire.dumps(body) if body is not None else None  # encoded once, re-sent as is
        return retrying(self._attempt, method, path, params, content, ok)

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        response = self._request(method, path, **kw)
        return wire.loads(response.content) if response.content.strip() else None

    def _error(self, response: httpx.Response, method: str, path: str) -> SparkLayerError:
        retry_after = None
        if response.status_code == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock.now())
        return error_from_response(
            response.status_code,
            self._scrub(response.content),
            method=method,
            path=path,
            retry_after_s=retry_after,
        )

    def _scrub(self, text: Any) -> Any:
        """Remove the secret and any token we hold from ``text`` (str or bytes)."""
        secrets = [self._secret.reveal(), *self._tokens.known_tokens()]
        for secret in secrets:
            if not secret:
                continue
            if isinstance(text, bytes):
                text = text.replace(secret.encode(), _MASK.encode())
            else:
                text = text.replace(secret, _MASK)
        return text

    # ------------------------------------------------------------------------------------ pagination

    def _iter_v2_pages(self, path: str, page_size: int, params: Mapping[str, Any] | None) -> Iterator[Any]:
        page = 1
        while True:
            doc = self._json("GET", path, params={**(params or {}), "page": page, "page_size": page_size})
            rows = doc.get("data") or ()
            yield from rows
            pagination = doc.get("pagination") or {}
            total_pages = int(pagination.get("total_pages") or 0)
            current = int(pagination.get("current_page") or page)
            if current >= total_pages or not rows:  # contract 13: an empty collection is one empty page
                return
            page = current + 1

    # ----------------------------------------------------------------------------------- price lists

    def iter_price_lists(
        self,
        *,
        page_size: int = contract.PRICE_LISTS_MAX_PAGE_SIZE,
        source: str | None = None,
        order_by: str | None = None,
    ) -> Iterator[PriceList]:
        """Every price list (``GET /api/v2/price-lists``, page by page until current_page == total_pages)."""
        if not 1 <= page_size <= contract.PRICE_LISTS_MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{contract.PRICE_LISTS_MAX_PAGE_SIZE}")
        params = {k: v for k, v in (("source", source), ("order_by", order_by)) if v}
        for doc in self._iter_v2_pages("/api/v2/price-lists", page_size, params):
            yield PriceList.from_api(doc)

    def list_price_lists(self) -> list[PriceList]:
        return list(self.iter_price_lists())

    def get_price_list(self, slug: str) -> PriceList:
        return PriceList.from_api(self._json("GET", f"/api/v1/price-lists/{_seg(slug)}"))

    def create_price_list(self, price_list: PriceList) -> PriceList:
        """Not an upsert: 400 if the slug exists (so it is not re-sent after a 5xx)."""
        doc = self._json("POST", "/api/v1/price-lists", body=price_list.to_api(), idempotent=False)
        return PriceList.from_api(doc) if isinstance(doc, Mapping) and doc.get("slug") else price_list

    def update_price_list(
        self,
        slug: str,
        *,
        name: str | None = None,
        currency_code: str | None = None,
        tax_inclusive_display: bool | None = None,
        rules: Sequence[PriceListRule] | None = None,
    ) -> PriceList:
        """Partial update; ``rules`` (when given) replaces all rules."""
        body: JsonDict = {
            k: v
            for k, v in (
                ("name", name),
                ("currency_code", currency_code),
                ("tax_inclusive_display", tax_inclusive_display),
            )
            if v is not None
        }
        if rules is not None:
            body["rules"] = [r.to_api() for r in rules]
        doc = self._json("PATCH", f"/api/v1/price-lists/{_seg(slug)}", body=body)
        if isinstance(doc, Mapping) and doc.get("slug"):
            return PriceList.from_api(doc)
        return self.get_price_list(slug)

    # --------------------------------------------------------------------------------------- pricing

    def get_pricing(self, slug: str) -> list[PricingRow]:
        """All prices on one list, one row per SKU (204/404 → empty, contract 9)."""
        response = self._request("GET", f"/api/v1/price-lists/{_seg(slug)}/pricing", ok=(200, 204, 404))
        if response.status_code != 200 or not response.content.strip():
            return []
        return PricingRow.group_flat(slug, wire.loads(response.content))

    def get_sku_pricing(self, sku: str) -> list[PricingRow]:
        doc = self._json("GET", f"/api/v1/pricing/{_seg(sku)}") or []
        return [PricingRow.from_api({"sku": sku, **entry}) for entry in doc]

    def patch_pricing(
        self, slug: str, rows: Iterable[PricingRow], *, batch_size: int | None = None
    ) -> PushReport:
        """Replace the prices of the given SKUs on one list (others untouched), in batches."""
        path = f"/api/v1/price-lists/{_seg(slug)}/pricing"

        def entry(row: PricingRow) -> JsonDict:
            if row.price_list_slug != slug:
                raise ValueError(f"row for {row.price_list_slug!r} passed to patch_pricing({slug!r})")
            return row.to_api(with_slug=False)

        return self._push(
            f"pricing {slug}",
            rows,
            batch_size or self.pricing_batch_size,
            lambda batch: self._request("PATCH", path, body=[entry(r) for r in batch]),
            key=lambda r: (r.price_list_slug, r.sku),
        )

    def batch_update_pricing(
        self, entries: Iterable[PricingRow], *, batch_size: int | None = None
    ) -> PushReport:
        """Replace prices for SKUs across many lists (``PATCH /api/v1/batch-update-pricing``), in batches."""
        return self._push(
            "pricing",
            entries,
            batch_size or self.pricing_batch_size,
            lambda batch: self._request(
                "PATCH", "/api/v1/batch-update-pricing", body=[r.to_api(with_slug=True) for r in batch]
            ),
            key=lambda r: (r.price_list_slug, r.sku),
        )

    # ----------------------------------------------------------------------------------------- stock

    def list_stock_locations(self) -> list[StockLocation]:
        return [StockLocation.from_api(d) for d in self._json("GET", "/api/v1/stock-locations") or ()]

    def get_stock_location(self, id_or_external_id: str) -> StockLocation:
        return StockLocation.from_api(self._json("GET", f"/api/v1/stock-locations/{_seg(id_or_external_id)}"))

    def create_stock_location(self, name: str, external_id: str) -> StockLocation:
        """409 if ``external_id`` exists (a genuine conflict, not retried)."""
        body = {"name": name, "external_id": external_id}
        doc = self._json("POST", "/api/v1/stock-locations", body=body, idempotent=False)
        if isinstance(doc, Mapping) and doc.get("external_id"):
            return StockLocation.from_api(doc)
        return self.get_stock_location(external_id)

    def batch_update_stock(
        self, rows: Iterable[StockLevelRow], *, batch_size: int | None = None
    ) -> PushReport:
        """Upsert stock per SKU+location (``POST /api/v1/batch-update-stock``, idempotent), in batches."""
        return self._push(
            "stock",
            rows,
            batch_size or self.stock_batch_size,
            lambda batch: self._request(
                "POST", "/api/v1/batch-update-stock", body=[r.to_api() for r in batch], idempotent=True
            ),
            key=lambda r: (r.stock_location_external_id or r.stock_location_id, r.sku),
        )

    def batch_fetch_stock(self, skus: Iterable[str], *, batch_size: int | None = None) -> list[StockLevelRow]:
        """Stock per SKU and location (read-only POST, so retried like a GET)."""
        out: list[StockLevelRow] = []
        for batch in chunked(skus, batch_size or self.stock_batch_size):
            body = {contract.STOCK_FETCH_BODY_KEY: batch}
            doc = self._json("POST", "/api/v1/batch-fetch-stock", body=body, idempotent=True)
            for entry in doc or ():
                out.extend(StockLevelRow.from_fetch(entry))
        return out

    def update_variant_settings(self, external_id: str, settings: Sequence[VariantSetting]) -> None:
        """Replace a variant's per-group quantity rules (pack size ...) — contract 12."""
        body = {"settings": [s.to_api() for s in settings]}
        self._request("PATCH", f"/api/v1/variants/{_seg(external_id)}", body=body)

    # ------------------------------------------------------------------------------------- customers

    def upsert_customer(
        self, lookup_by: str, identifier: str, customer: Customer | Mapping[str, Any]
    ) -> UpsertedCustomer:
        """Create or **fully replace** a customer (omitted fields are cleared by SparkLayer)."""
        _check_lookup(lookup_by, contract.CUSTOMER_LOOKUPS)
        body = customer.to_api() if isinstance(customer, Customer) else dict(customer)
        response = self._request("PUT", f"/api/v2/customers/{lookup_by}/{_seg(identifier)}", body=body)
        doc = wire.loads(response.content) if response.content.strip() else None
        saved = Customer.from_api(doc) if isinstance(doc, Mapping) else Customer.from_api(body)
        return UpsertedCustomer(saved, created=response.status_code == 201)

    def get_customer(self, lookup_by: str, identifier: str) -> Customer:
        _check_lookup(lookup_by, contract.CUSTOMER_LOOKUPS)
        return Customer.from_api(self._json("GET", f"/api/v2/customers/{lookup_by}/{_seg(identifier)}"))

    def iter_customers(self, *, page_size: int = 100) -> Iterator[Customer]:
        """Every customer (inferred v2 list, paginated like v2 price lists — contract 6)."""
        for doc in self._iter_v2_pages("/api/v2/customers", page_size, None):
            yield Customer.from_api(doc)

    def list_customer_groups(self) -> list[CustomerGroup]:
        return [CustomerGroup.from_api(d) for d in self._json("GET", "/api/v1/customer-groups") or ()]

    def create_customer_group(
        self, slug: str, name: str, parent_slug: str = contract.BASE_GROUP
    ) -> list[CustomerGroup]:
        """Returns the whole list of groups, as the API does."""
        body = {"slug": slug, "name": name, "parent_slug": parent_slug}
        doc = self._json("POST", "/api/v1/customer-groups", body=body, idempotent=False)
        if isinstance(doc, list):
            return [CustomerGroup.from_api(d) for d in doc]
        return self.list_customer_groups()

    def get_group_settings(self, slug: str) -> GroupSettings:
        return GroupSettings.from_api(slug, self._json("GET", f"/api/v1/settings/{_seg(slug)}") or {})

    # ------------------------------------------------------------------------------------- purchases

    def fetch_purchases_page(
        self,
        updated_since: dt.datetime | None,
        limit: int,
        offset: int = 0,
        *,
        updated_until: dt.datetime | None = None,
        type: str | None = "order",  # noqa: A002 - the API's own name
    ) -> list[Purchase]:
        """One page of purchases updated at or after ``updated_since``, oldest change first (contract 2)."""
        if not 1 <= limit <= contract.PURCHASES_MAX_LIMIT:
            raise ValueError(f"limit must be 1..{contract.PURCHASES_MAX_LIMIT}")
        if offset < 0:
            raise ValueError("offset cannot be negative")
        params: dict[str, Any] = {
            "order_by": contract.PURCHASES_ORDER_BY_ASC,
            "limit": limit,
            "offset": offset,
        }
        if updated_since is not None:
            params[contract.FILTER_UPDATED_GTE] = wire.format_datetime(updated_since)
        if updated_until is not None:
            params[contract.FILTER_UPDATED_LTE] = wire.format_datetime(updated_until)
        if type:
            params[contract.FILTER_TYPE] = type
        doc = self._json("GET", "/api/v1/purchases", params=params) or []
        rows = (doc.get("data") or []) if isinstance(doc, Mapping) else doc
        return [Purchase.from_api(d) for d in rows]

    def iter_purchases(
        self,
        updated_since: dt.datetime | None,
        updated_until: dt.datetime | None = None,
        type: str | None = "order",  # noqa: A002
        page_size: int = contract.PURCHASES_MAX_LIMIT,
    ) -> Iterator[Purchase]:
        """Every matching purchase, walking limit/offset until a short page.

        A purchase updated while the walk runs moves to the end of the order and can shift another one
        past the cursor; callers that must see everything (the order sensor) re-read with an overlap window.
        """
        offset = 0
        while True:
            page = self.fetch_purchases_page(
                updated_since, page_size, offset, updated_until=updated_until, type=type
            )
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    def get_purchase(self, lookup_by: str, identifier: str) -> Purchase:
        _check_lookup(lookup_by, contract.LOOKUP_KINDS)
        return Purchase.from_api(self._json("GET", f"/api/v1/purchases/{lookup_by}/{_seg(identifier)}"))

    def put_purchase(self, lookup_by: str, identifier: str, body: Mapping[str, Any]) -> Purchase | None:
        """Create or **fully replace** a purchase. Build ``body`` with ``with_changes(get_purchase(...).raw,
        ...)``; calculated fields are stripped here too, and a body missing a required key is refused
        before it can clear anything."""
        _check_lookup(lookup_by, contract.LOOKUP_KINDS)
        missing = [k for k in _PURCHASE_REQUIRED if k not in body]
        if missing:
            raise ValueError(f"purchase PUT is a full replace; body lacks {', '.join(missing)}")
        doc = self._json(
            "PUT", f"/api/v1/purchases/{lookup_by}/{_seg(identifier)}", body=strip_calculated(body)
        )
        return Purchase.from_api(doc) if isinstance(doc, Mapping) and doc else None

    def add_purchase_history(
        self,
        lookup_by: str,
        identifier: str,
        body: str,
        *,
        event_type: str = "note",
        author: str = "sparklayer-erp",
    ) -> None:
        """Not idempotent (a re-send adds a second entry), so never re-sent after a 5xx/read timeout."""
        _check_lookup(lookup_by, contract.LOOKUP_KINDS)
        if event_type not in ("message", "note", "email"):
            raise ValueError("event_type must be message, note or email")
        author_key = "sent_by" if event_type == "email" else "created_by"
        entry = {"event_type": event_type, "body": body, author_key: author}
        self._request(
            "POST", f"/api/v1/purchases/{lookup_by}/{_seg(identifier)}/history", body=entry, idempotent=False
        )

    def get_transactions(self, lookup_by: str, identifier: str) -> list[Transaction]:
        _check_lookup(lookup_by, contract.LOOKUP_KINDS)
        doc = self._json("GET", f"/api/v1/purchases/{lookup_by}/{_seg(identifier)}/transactions") or []
        rows = (doc.get("data") or []) if isinstance(doc, Mapping) else doc
        return [Transaction.from_api(d) for d in rows]

    def put_transaction(self, lookup_by: str, identifier: str, transaction: Transaction) -> None:
        """Upsert keyed by purchase + ``platform_id`` (idempotent)."""
        _check_lookup(lookup_by, contract.LOOKUP_KINDS)
        self._request(
            "PUT",
            f"/api/v1/purchases/{lookup_by}/{_seg(identifier)}/transactions",
            body=transaction.to_api(),
        )

    # -------------------------------------------------------------------------------------- sync log

    def put_sync_log(
        self, data_type: str, entry: SyncLogEntry, *, integration: str = contract.SYNC_LOG_INTEGRATION
    ) -> None:
        """Record a full sync; replaces the previous report and all its errors."""
        self._request("PUT", f"/api/v1/sync-log/{_seg(integration)}/{_seg(data_type)}", body=entry.to_api())

    def get_sync_log(
        self, data_type: str, *, integration: str = contract.SYNC_LOG_INTEGRATION
    ) -> SyncLogEntry | None:
        """None until a full sync has been recorded (404)."""
        try:
            doc = self._json("GET", f"/api/v1/sync-log/{_seg(integration)}/{_seg(data_type)}")
        except SparkLayerNotFound:
            return None
        return SyncLogEntry.from_api(doc or {})

    # -------------------------------------------------------------------------------------- batching

    def _push(self, label: str, rows: Iterable[Any], batch_size: int, send: Any, *, key: Any) -> PushReport:
        total = known_length(rows)
        seen: set[Any] = set()
        progress = ProgressLog(label, total, every=self.progress_every, clock=self._clock)
        for batch in chunked(rows, batch_size):
            for row in batch:
                k = key(row)
                if k in seen:  # the API answers 400 for repeats within a batch; across batches last wins
                    raise ValueError(f"{label}: {k} appears twice in one push")
                seen.add(k)
            send(batch)
            progress.batch_done(len(batch))
        return progress.finish()
