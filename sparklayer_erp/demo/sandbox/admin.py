"""``SandboxAdmin``: a small httpx client for the sandbox's ``/_sandbox/`` routes (buyer and operator).

Refusals (the storefront saying no, an unknown order) raise ``SandboxRejected`` carrying the problem body,
so a test can assert on ``exc.status`` and ``exc.codes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx


class SandboxRejected(Exception):
    """The sandbox answered 4xx; ``problem`` is the RFC 7807 body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('detail', '')}")
        self.status = status
        self.problem = problem

    @property
    def codes(self) -> list[str]:
        return [e.get("code", "") for e in self.problem.get("errors") or []]


def _lines(lines: Sequence[Mapping[str, Any] | tuple[str, int]]) -> list[dict[str, Any]]:
    """Lines as ``{"sku", "quantity"}`` dicts or ``(sku, quantity)`` pairs."""
    return [dict(line) if isinstance(line, Mapping) else {"sku": line[0], "quantity": line[1]} for line in lines]


def _overrides(overrides: Mapping[str, Decimal | str] | None) -> dict[str, str] | None:
    return {sku: str(price) for sku, price in overrides.items()} if overrides else None


class SandboxAdmin:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/_sandbox", timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text}
            raise SandboxRejected(response.status_code, problem)
        return response.json() if response.content else None

    # -- the buyer --------------------------------------------------------------------------------------------
    def place_order(self, customer: str, lines: Sequence[Mapping[str, Any] | tuple[str, int]],
                    payment_method: str, po_number: str | None = None,
                    unit_price_overrides: Mapping[str, Decimal | str] | None = None) -> dict[str, Any]:
        """Check out as ``customer`` (SparkLayer id, e-mail or platform id); returns the new purchase."""
        body: dict[str, Any] = {"customer": customer, "lines": _lines(lines), "payment_method": str(payment_method),
                                "po_number": po_number}
        if unit_price_overrides:
            body["unit_price_overrides"] = _overrides(unit_price_overrides)
        return self._call("POST", "/orders", json=body)

    def cancel_order(self, purchase_id: str) -> dict[str, Any]:
        return self._call("POST", f"/orders/{purchase_id}/cancel")

    def amend_order(self, purchase_id: str, lines: Sequence[Mapping[str, Any] | tuple[str, int]],
                    unit_price_overrides: Mapping[str, Decimal | str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"lines": _lines(lines)}
        if unit_price_overrides:
            body["unit_price_overrides"] = _overrides(unit_price_overrides)
        return self._call("POST", f"/orders/{purchase_id}/amend", json=body)

    def get_purchase(self, purchase_id: str) -> dict[str, Any]:
        return self._call("GET", f"/purchases/{purchase_id}")

    def get_customer(self, identifier: str) -> dict[str, Any]:
        """By SparkLayer id, e-mail or platform id."""
        return self._call("GET", f"/customers/{identifier}")

    def set_group_settings(self, slug: str, *, payment_methods: Sequence[str] | None = None,
                           price_lists: Sequence[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if payment_methods is not None:
            body["payment_methods"] = list(payment_methods)
        if price_lists is not None:
            body["price_lists"] = list(price_lists)
        return self._call("PUT", f"/groups/{slug}/settings", json=body)

    # -- the operator ------------------------------------------------------------------------------------------
    def writes(self, since: int | None = None) -> list[dict[str, Any]]:
        """Mutating API calls after write ``since`` (an entry's ``seq``): method, path, status, at, body."""
        return self._call("GET", "/writes", params={"since": since} if since is not None else None)

    def set_faults(self, *, revoke_tokens: bool = False, **switches: Any) -> dict[str, Any]:
        """Arm fault switches (see ``faults.FaultConfig``); unnamed switches keep their value."""
        return self._call("POST", "/faults", json={**switches, "revoke_tokens": revoke_tokens})

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "/faults")

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    def tokens_issued(self) -> int:
        """Access tokens the sandbox has issued since it started (``POST /api/auth/token`` answered 200)."""
        return int(self._call("GET", "/tokens")["issued"])

    def sync_log(self, integration: str, data_type: str) -> dict[str, Any]:
        """The full-sync record including every error entry."""
        return self._call("GET", f"/sync-log/{integration}/{data_type}")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
