"""A thin, typed JSON-RPC client for Tryton 8.2 over httpx.

What it owns, so the adapter does not have to:
  - the session: ``common.db.login`` lazily, ``Authorization: Session base64(login:user_id:token)``, and one
    re-login + retry when the server answers 401 (expired session, or a "fresh session" method such as the
    invoice payment wizard called on an old session). 401 is raised before the method runs, so retrying a
    write is safe;
  - the base context from ``res.user.get_preferences`` (it must carry ``company``: Tryton's record rules
    reject creates without it);
  - ``log_in_background``: the login (two calls) started on a thread when a session opens, so it runs while
    the caller reads SparkLayer; the first call waits for it;
  - Tryton's JSON type tags (Decimal, date, datetime, time, timedelta, bytes) both ways, so money stays
    ``Decimal`` end to end;
  - the error shapes: Tryton answers business errors with HTTP 200 and an ``error`` key.
      ``UserError``   -> :class:`TrytonUserError`   (a business refusal: the caller decides what it means)
      ``UserWarning`` -> :class:`TrytonUserWarning` (a skippable warning, also business)
      anything else, HTTP errors, timeouts, unreadable bodies -> :class:`ErpTechnicalError` (retry later).
    Exception texts never contain the password or the session token (they are scrubbed even from
    server-provided text).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import itertools
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx

from sparklayer_erp.erp.port import ErpTechnicalError

_MAX_SERVER_TEXT = 300


class TrytonUserError(Exception):
    """Tryton refused a call for a business reason (``UserError``): nothing was written."""

    def __init__(self, method: str, message: str, description: str = "") -> None:
        self.method = method
        self.message = message
        self.description = description
        super().__init__(f"{method}: {message}" + (f" ({description})" if description else ""))


class TrytonUserWarning(Exception):
    """Tryton asks a person to acknowledge a warning (``UserWarning``); nothing was written."""

    def __init__(self, method: str, name: str, message: str) -> None:
        self.method = method
        self.name = name
        self.message = message
        super().__init__(f"{method}: {message}")


# --- JSON type tags ---------------------------------------------------------------------------------------


def _encode(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return {"__class__": "Decimal", "decimal": str(obj)}
    if isinstance(obj, dt.datetime):  # before date: datetime is a date
        return {
            "__class__": "datetime", "year": obj.year, "month": obj.month, "day": obj.day,
            "hour": obj.hour, "minute": obj.minute, "second": obj.second, "microsecond": obj.microsecond,
        }
    if isinstance(obj, dt.date):
        return {"__class__": "date", "year": obj.year, "month": obj.month, "day": obj.day}
    if isinstance(obj, dt.time):
        return {
            "__class__": "time", "hour": obj.hour, "minute": obj.minute, "second": obj.second,
            "microsecond": obj.microsecond,
        }
    if isinstance(obj, dt.timedelta):
        return {"__class__": "timedelta", "seconds": obj.total_seconds()}
    if isinstance(obj, bytes | bytearray):
        return {"__class__": "bytes", "base64": base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, set | frozenset):
        return list(obj)
    raise TypeError(f"cannot send {type(obj).__name__} to Tryton")


def _decode(obj: dict) -> Any:
    cls = obj.get("__class__")
    if cls is None:
        return obj
    if cls == "Decimal":
        return Decimal(obj["decimal"])
    if cls == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if cls == "datetime":
        return dt.datetime(
            obj["year"], obj["month"], obj["day"], obj["hour"], obj["minute"], obj["second"],
            obj["microsecond"],
        )
    if cls == "time":
        return dt.time(obj["hour"], obj["minute"], obj["second"], obj["microsecond"])
    if cls == "timedelta":
        return dt.timedelta(seconds=obj["seconds"])
    if cls == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def dumps(payload: Any) -> str:
    return json.dumps(payload, default=_encode, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode)


# --- the client ---------------------------------------------------------------------------------------------


class TrytonRpc:
    """One authenticated JSON-RPC session against one Tryton database."""

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: str,
        *,
        timeout: float = 60.0,
        language: str = "en",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = f"{url.rstrip('/')}/{database}/rpc/"
        self.database = database
        self.login_name = login
        self._password = password
        self._language = language
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._ids = itertools.count(1)
        self._session: str | None = None
        self._token: str | None = None
        self.user_id: int | None = None
        self._context: dict[str, Any] | None = None
        self._login_thread: threading.Thread | None = None
        self._login_error: Exception | None = None

    # ---- lifecycle
    def close(self) -> None:
        self._await_login(report=False)  # closing never raises a login nobody used
        self._http.close()

    def __enter__(self) -> TrytonRpc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def login(self) -> None:
        """Open a new session and load the user's preferences (company, language) as the base context."""
        self._session = None
        result = self._post("common.db.login", [self.login_name, {"password": self._password}, self._language])
        try:
            user_id, token = int(result[0]), str(result[1])
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise ErpTechnicalError(f"Tryton login for {self.login_name!r}: unexpected answer") from exc
        self.user_id = user_id
        self._token = token
        self._session = base64.b64encode(f"{self.login_name}:{user_id}:{token}".encode()).decode("ascii")
        try:
            prefs = self._post("model.res.user.get_preferences", [True, {}])
        except _Unauthorized:
            raise ErpTechnicalError("model.res.user.get_preferences: new session refused (HTTP 401)") from None
        if not isinstance(prefs, dict) or not prefs.get("company"):
            raise ErpTechnicalError(
                f"Tryton user {self.login_name!r} has no current company: every call needs one in its context"
            )
        self._context = prefs

    def log_in_background(self) -> None:
        """Start logging in on a thread, so the session is ready by the first call: an order-sync run reads
        SparkLayer first, and the ERP login then costs it no time. The first call (or ``context``) waits for
        the thread and raises what the login met, exactly as if it had logged in itself (the next call tries
        again)."""
        if self._session is not None or self._login_thread is not None:
            return
        self._login_thread = threading.Thread(target=self._log_in_quietly, name="tryton-login", daemon=True)
        self._login_thread.start()

    def _log_in_quietly(self) -> None:
        try:
            self.login()
        except Exception as exc:  # raised by the first call, in the caller's thread
            self._session = self._context = None
            self._login_error = exc

    def _await_login(self, report: bool = True) -> None:
        thread = self._login_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
            self._login_thread = None
            error, self._login_error = self._login_error, None
            if error is not None and report:
                raise error

    @property
    def context(self) -> dict[str, Any]:
        """The base context every model call carries (always includes ``company``)."""
        self._await_login()
        if self._context is None:
            self.login()
        assert self._context is not None
        return dict(self._context)

    @property
    def company_id(self) -> int:
        return int(self.context["company"])

    # ---- calls
    def call(self, method: str, params: Sequence[Any]) -> Any:
        """Call any RPC method; logs in first if needed and once more on a 401."""
        self._await_login()
        if self._session is None:
            self.login()
        try:
            return self._post(method, list(params))
        except _Unauthorized:
            self.login()
            try:
                return self._post(method, list(params))
            except _Unauthorized:
                raise ErpTechnicalError(f"{method}: session refused twice (HTTP 401)") from None

    def model(self, model: str, method: str, *args: Any, context: Mapping[str, Any] | None = None) -> Any:
        """``model.<model>.<method>(*args, context)`` with the base context merged under ``context``."""
        ctx = self.context
        if context:
            ctx.update(context)
        return self.call(f"model.{model}.{method}", [*args, ctx])

    def search_read(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        order: Sequence[tuple[str, str]] | None = None,
        limit: int | None = None,
        offset: int = 0,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        order_arg = [list(o) for o in order] if order else None
        return self.model(
            model, "search_read", list(domain), offset, limit, order_arg, list(fields), context=context
        )

    @contextlib.contextmanager
    def wizard(
        self, name: str, model: str, ids: Sequence[int], *, context: Mapping[str, Any] | None = None
    ) -> Iterator[WizardSession]:
        """A wizard session on ``ids`` of ``model``; always deleted on exit, even on error, so an aborted
        run leaves nothing behind in ``ir.session.wizard``."""
        ctx = self.context
        if context:
            ctx.update(context)
        ctx.update({"active_model": model, "active_id": ids[0] if ids else None, "active_ids": list(ids)})
        session_id, _start, _end = self.call(f"wizard.{name}.create", [ctx])
        try:
            yield WizardSession(self, name, session_id, ctx)
        finally:
            # a leftover session row is harmless; the real outcome is what matters
            with contextlib.suppress(ErpTechnicalError, TrytonUserError):
                self.call(f"wizard.{name}.delete", [session_id, ctx])

    def run_wizard(
        self,
        name: str,
        model: str,
        ids: Sequence[int],
        steps: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Run fixed ``steps`` = [(state to execute, {view state: values})]; returns each answer."""
        with self.wizard(name, model, ids, context=context) as session:
            return [session.execute(state, data) for state, data in steps]

    @staticmethod
    def view_defaults(result: Mapping[str, Any]) -> dict[str, Any]:
        """A wizard view's defaults, without the ``field.`` rec_name helper keys Tryton refuses back."""
        defaults = (result.get("view") or {}).get("defaults") or {}
        return {k: v for k, v in defaults.items() if "." not in k and ":" not in k}

    # ---- transport
    def _post(self, method: str, params: list[Any]) -> Any:
        payload = {"id": next(self._ids), "method": method, "params": params}
        headers = {"Content-Type": "application/json"}
        if self._session is not None:
            headers["Authorization"] = f"Session {self._session}"
        try:
            response = self._http.post(self.endpoint, content=dumps(payload), headers=headers)
        except httpx.TimeoutException as exc:
            raise ErpTechnicalError(f"{method}: Tryton did not answer in time ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise ErpTechnicalError(f"{method}: cannot reach Tryton ({type(exc).__name__})") from None
        if response.status_code == 401:
            if method == "common.db.login":
                raise ErpTechnicalError(f"Tryton refused the login of {self.login_name!r} (HTTP 401)")
            raise _Unauthorized()
        if response.status_code != 200:
            raise ErpTechnicalError(f"{method}: Tryton answered HTTP {response.status_code}")
        try:
            data = loads(response.text)
        except ValueError:
            raise ErpTechnicalError(f"{method}: Tryton answered something that is not JSON") from None
        if not isinstance(data, dict):
            raise ErpTechnicalError(f"{method}: unexpected JSON-RPC answer")
        error = data.get("error")
        if error:
            raise self._map_error(method, error)
        return data.get("result")

    def _map_error(self, method: str, error: Any) -> Exception:
        kind = error[0] if isinstance(error, list | tuple) and error else None
        detail = error[1] if isinstance(error, list | tuple) and len(error) > 1 else None
        if kind == "UserError" and isinstance(detail, list | tuple) and detail:
            message = self._scrub(str(detail[0]))
            description = self._scrub(str(detail[1] or "")) if len(detail) > 1 else ""
            return TrytonUserError(method, message, description)
        if kind == "UserWarning" and isinstance(detail, list | tuple) and len(detail) >= 2:
            return TrytonUserWarning(method, str(detail[0]), self._scrub(str(detail[1])))
        if kind == "ConcurrencyException":
            return ErpTechnicalError(f"{method}: concurrent modification, retry ({self._scrub(str(detail))})")
        # any other server exception: (str(exception), traceback) -> keep only the first line of the text
        text = str(kind if kind is not None else error).strip().splitlines()
        first = text[0] if text else "unknown error"
        return ErpTechnicalError(f"{method}: Tryton server error: {self._scrub(first)[:_MAX_SERVER_TEXT]}")

    def _scrub(self, text: str) -> str:
        for secret in (self._password, self._session, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text


class WizardSession:
    """One open wizard session: ``execute(state, {view state: values})`` returns Tryton's answer."""

    def __init__(self, rpc: TrytonRpc, name: str, session_id: int, context: dict[str, Any]) -> None:
        self._rpc = rpc
        self.name = name
        self.session_id = session_id
        self._context = context

    def execute(self, state: str, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
        answer = self._rpc.call(
            f"wizard.{self.name}.execute", [self.session_id, dict(data or {}), state, self._context]
        )
        return answer if isinstance(answer, dict) else {}

    @staticmethod
    def view_state(answer: Mapping[str, Any]) -> str | None:
        """The state name of the view Tryton answered with, or None when the wizard ended."""
        return (answer.get("view") or {}).get("state")


class _Unauthorized(Exception):
    """HTTP 401 on a model call: the session is gone; log in again once."""
