"""The JSON-RPC client's own rules, at the HTTP edge (httpx.MockTransport plays Tryton's wire format).

The real server is exercised in test_adapter_tryton.py; here we pin down what is hard to provoke there:
exact error shapes, the single re-login on 401, and that secrets never reach exception text.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal

import httpx
import pytest

from sparklayer_erp.erp.port import ErpTechnicalError
from sparklayer_erp.erp.tryton.rpc import TrytonRpc, TrytonUserError, TrytonUserWarning, dumps, loads

PASSWORD = "s3cret-Pa55"
TOKEN = "tok-abc123"


def test_tryton_types_round_trip_exactly():
    value = {
        "amount": Decimal("12.3400"),
        "day": dt.date(2026, 11, 26),
        "at": dt.datetime(2026, 11, 26, 13, 5, 7, 120),
        "time": dt.time(9, 30),
        "delay": dt.timedelta(days=30),
        "blob": b"\x00\x01",
    }
    wire = json.loads(dumps(value))
    assert wire["amount"] == {"__class__": "Decimal", "decimal": "12.3400"}
    assert wire["day"] == {"__class__": "date", "year": 2026, "month": 11, "day": 26}
    assert wire["at"]["__class__"] == "datetime"  # a datetime is not sent as a date
    assert loads(dumps(value)) == value


class FakeTryton:
    """Answers like trytond 8.2: login -> [uid, token]; errors as HTTP 200 + ``error``; 401 when told."""

    def __init__(self, answer):
        self.answer = answer  # callable(method, params) -> (status, body dict)
        self.logins = 0
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        payload = json.loads(request.content)
        method = payload["method"]
        self.calls.append(method)
        if method == "common.db.login":
            self.logins += 1
            if payload["params"][1]["password"] != PASSWORD:
                return httpx.Response(401)
            return httpx.Response(200, json={"id": payload["id"], "result": [7, f"{TOKEN}{self.logins}", None]})
        if method == "model.res.user.get_preferences":
            return httpx.Response(200, json={"id": payload["id"], "result": {"company": 1, "language": "en"}})
        status, body = self.answer(method, payload["params"], request)
        return httpx.Response(status, json={"id": payload["id"], **body})


def client(answer, password: str = PASSWORD) -> tuple[TrytonRpc, FakeTryton]:
    fake = FakeTryton(answer)
    rpc = TrytonRpc("http://erp.test", "erp", "integration", password, transport=httpx.MockTransport(fake))
    return rpc, fake


def test_every_call_carries_the_session_and_the_company_context():
    seen = {}

    def answer(method, params, request):
        seen["auth"] = request.headers["Authorization"]
        seen["context"] = params[-1]
        return 200, {"result": []}

    rpc, _ = client(answer)
    rpc.search_read("sale.sale", [], ["number"], context={"quantity": 3.0})
    assert seen["auth"] == "Session " + base64.b64encode(f"integration:7:{TOKEN}1".encode()).decode()
    assert seen["context"] == {"company": 1, "language": "en", "quantity": 3.0}


def test_user_error_and_warning_are_business_exceptions():
    def answer(method, params, request):
        if method.endswith("confirm"):
            return 200, {"error": ["UserError", ["The party will exceed their credit limit.", "", None]]}
        return 200, {"error": ["UserWarning", ["credit_limit_amount.1", "Exceeds the limit", ""]]}

    rpc, _ = client(answer)
    with pytest.raises(TrytonUserError) as err:
        rpc.model("sale.sale", "confirm", [1])
    assert err.value.message == "The party will exceed their credit limit."
    with pytest.raises(TrytonUserWarning) as warn:
        rpc.model("sale.sale", "quote", [1])
    assert warn.value.name == "credit_limit_amount.1"


@pytest.mark.parametrize("status, body", [
    (200, {"error": ["'NoneType' object has no attribute 'id'", "Traceback (most recent call last): ..."]}),
    (200, {"error": ["ConcurrencyException", "Records were modified in the meanwhile"]}),
    (500, {}),
    (429, {}),
])
def test_anything_else_is_a_technical_error(status, body):
    rpc, _ = client(lambda method, params, request: (status, body))
    with pytest.raises(ErpTechnicalError):
        rpc.model("sale.sale", "read", [1], ["state"])


def test_a_401_logs_in_again_once_then_gives_up():
    answers = iter([(401, {}), (200, {"result": "ok"}), (401, {}), (401, {})])
    rpc, fake = client(lambda method, params, request: next(answers))
    assert rpc.model("sale.sale", "confirm", [1]) == "ok"
    assert fake.logins == 2
    with pytest.raises(ErpTechnicalError, match="401"):
        rpc.model("sale.sale", "confirm", [1])
    assert fake.logins == 3  # exactly one re-login per call, no loop


def test_secrets_never_reach_exception_text_even_when_the_server_echoes_them():
    def answer(method, params, request):
        session = request.headers["Authorization"].split(" ", 1)[1]
        return 200, {"error": [f"failed for {PASSWORD} with {session} / {TOKEN}1", "tb"]}

    rpc, _ = client(answer)
    with pytest.raises(ErpTechnicalError) as err:
        rpc.model("sale.sale", "read", [1], ["state"])
    assert PASSWORD not in str(err.value) and TOKEN not in str(err.value)

    wrong, _ = client(lambda *a: (200, {"result": None}), password="not-the-" + PASSWORD)
    with pytest.raises(ErpTechnicalError) as err:
        wrong.login()
    assert "not-the-" not in str(err.value) and err.value.__cause__ is None


def test_transport_failures_and_timeouts_are_technical_and_keep_no_request_in_the_chain():
    def boom(request):
        raise httpx.ConnectTimeout("timed out", request=request)

    rpc = TrytonRpc("http://erp.test", "erp", "integration", PASSWORD, transport=httpx.MockTransport(boom))
    with pytest.raises(ErpTechnicalError, match="did not answer in time") as err:
        rpc.login()
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_wizard_session_is_deleted_even_when_a_step_fails():
    def answer(method, params, request):
        if method.endswith(".create"):
            return 200, {"result": [42, "start", "end"]}
        if method.endswith(".execute"):
            return 200, {"error": ["UserError", ["cannot pay", "", None]]}
        return 200, {"result": None}

    rpc, fake = client(answer)
    with pytest.raises(TrytonUserError):
        rpc.run_wizard("account.invoice.pay", "account.invoice", [5], [("start", {})])
    assert fake.calls[-1] == "wizard.account.invoice.pay.delete"


def test_view_defaults_drop_the_rec_name_helper_keys():
    answer = {"view": {"state": "start", "defaults": {"payee": 3, "payee.": {"rec_name": "Acme"},
                                                      "currency:string": "GBP", "amount": Decimal("1.20")}}}
    assert TrytonRpc.view_defaults(answer) == {"payee": 3, "amount": Decimal("1.20")}


def test_a_background_login_is_ready_for_the_first_call_and_happens_once():
    rpc, fake = client(lambda method, params, request: (200, {"result": [{"id": 1}]}))
    rpc.log_in_background()
    rpc.log_in_background()  # already under way: not a second login
    assert rpc.search_read("sale.sale", [], ["number"]) == [{"id": 1}]
    assert fake.logins == 1
    assert fake.calls[:2] == ["common.db.login", "model.res.user.get_preferences"]


def test_a_failed_background_login_is_raised_by_the_first_call_and_the_next_call_tries_again():
    rpc, fake = client(lambda method, params, request: (200, {"result": []}), password="wrong")
    rpc.log_in_background()
    with pytest.raises(ErpTechnicalError) as raised:
        rpc.search_read("sale.sale", [], ["number"])
    assert fake.logins == 1  # the call raised what the background login met, as a login of its own would
    assert "wrong" not in str(raised.value)
    with pytest.raises(ErpTechnicalError):
        rpc.search_read("sale.sale", [], ["number"])
    assert fake.logins == 2
    rpc.close()


def test_closing_a_session_whose_background_login_failed_does_not_raise():
    rpc, fake = client(lambda method, params, request: (200, {"result": []}), password="wrong")
    rpc.log_in_background()
    rpc.close()
    assert fake.logins == 1
