"""How the Tryton adapter reports failures to the port: a lookup gap, and Tryton errors nobody expected."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp.erp.tryton.rpc import TrytonUserError, TrytonUserWarning


class UnknownErpReference(LookupError):
    """``customer_price`` was asked about a customer, SKU or unit the ERP does not know (a mapping gap)."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def port_method(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Business refusals the adapter expects are turned into ``Refusal`` inside each method; a Tryton
    ``UserError`` that still escapes (an access right missing, a read refused) is a set-up problem the
    caller cannot act on per order, so the port sees it as technical."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return func(*args, **kwargs)
        except (TrytonUserError, TrytonUserWarning) as err:
            raise ErpTechnicalError(f"{func.__name__}: the ERP refused an integration call: {err.message}") from None

    return wrapper
