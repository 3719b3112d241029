"""Company time at the day and month boundaries: the reconciliation's month, the times a drift finding shows
and the daily digest's hour follow the company's time zone (passed in: the domain reads no settings), in
summer time, in winter time and in a zone other than London."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from sparklayer_erp.domain.drift import DriftConfig, DriftSnapshot, evaluate_drift
from sparklayer_erp.domain.exception_kinds import Entity, problem
from sparklayer_erp.domain.reconciliation import reconcile_month
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.monitoring import watch
from sparklayer_erp.notify.delivery import AlertRouting
from sparklayer_erp_tests.domain.recon_builders import Frames

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
JUNE, JULY, AUGUST = dt.date(2026, 6, 1), dt.date(2026, 7, 1), dt.date(2026, 8, 1)
NOVEMBER, DECEMBER, JANUARY = dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1)


def _month_orders(placed: dict[str, str], start: dt.date, end: dt.date, timezone) -> list[str]:
    """The purchase ids ``reconcile_month`` counts in ``[start, end)`` in ``timezone``."""
    f = Frames()
    for pid, at in placed.items():
        f.sl(pid, placed=at).erp(len(f.erp_orders) + 1, pid, order_date=None)
    kw = {} if timezone is None else {"timezone": timezone}
    result = reconcile_month(**f.frames(), as_of=end, month_start=start, month_end=end, **kw)
    return sorted(result.orders["purchase_id"])


SUMMER = {"june-last": "2026-06-30T22:59:00Z",  # 23:59 BST on 30 June
          "july-first": "2026-06-30T23:30:00Z",  # 00:30 BST on 1 July: July in the UK, June in UTC
          "july-last": "2026-07-31T22:30:00Z",  # 23:30 BST on 31 July
          "august-first": "2026-07-31T23:30:00Z"}  # 00:30 BST on 1 August


def test_in_summer_time_an_order_at_half_past_midnight_on_the_1st_uk_time_is_that_months():
    assert _month_orders(SUMMER, JULY, AUGUST, LONDON) == ["july-first", "july-last"]
    assert _month_orders(SUMMER, JUNE, JULY, LONDON) == ["june-last"]
    assert _month_orders(SUMMER, JULY, AUGUST, "Europe/London") == ["july-first", "july-last"]  # a name works


def test_the_same_orders_in_utc_months_when_the_zone_is_utc_or_not_given():
    assert _month_orders(SUMMER, JULY, AUGUST, dt.UTC) == ["august-first", "july-last"]
    assert _month_orders(SUMMER, JULY, AUGUST, None) == ["august-first", "july-last"]


def test_in_winter_time_uk_months_are_utc_months():
    winter = {"november-last": "2026-11-30T23:59:00Z", "december-first": "2026-12-01T00:30:00Z",
              "december-last": "2026-12-31T23:30:00Z", "january-first": "2027-01-01T00:00:00Z"}
    assert _month_orders(winter, DECEMBER, JANUARY, LONDON) == ["december-first", "december-last"]
    assert _month_orders(winter, NOVEMBER, DECEMBER, LONDON) == ["november-last"]


def test_another_zone_cuts_its_own_months():
    placed = {"ny-june": "2026-07-01T03:30:00Z",  # 23:30 EDT on 30 June; July in London and UTC
              "ny-july": "2026-07-01T04:00:00Z"}  # midnight EDT on 1 July
    assert _month_orders(placed, JUNE, JULY, NEW_YORK) == ["ny-june"]
    assert _month_orders(placed, JULY, AUGUST, NEW_YORK) == ["ny-july"]
    assert _month_orders(placed, JULY, AUGUST, LONDON) == ["ny-july", "ny-june"]


def test_the_orders_keep_their_instant_in_utc():
    f = Frames().sl("p1", placed="2026-06-30T23:30:00Z").erp(1, "p1")
    result = reconcile_month(**f.frames(), as_of=AUGUST, month_start=JULY, month_end=AUGUST, timezone=LONDON)
    assert result.orders["placed_at"].tolist() == [dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)]


# --- drift: the times people read ---------------------------------------------------------------------------

NOW = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)


def _stale_message(config: DriftConfig) -> str:
    snap = DriftSnapshot(sync_last_success={"stock": dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)})
    rules = replace(config, stale_after={"stock": dt.timedelta(hours=1)})
    (found,) = evaluate_drift(snap, rules, NOW)
    return found.message


def test_a_stale_sync_says_when_it_last_worked_on_the_company_clock():
    assert "2026-07-01 00:30 BST" in _stale_message(DriftConfig(timezone=LONDON))
    assert "2026-06-30 19:30 EDT" in _stale_message(DriftConfig(timezone=NEW_YORK))
    assert "2026-06-30 23:30 UTC" in _stale_message(DriftConfig())  # default: UTC, as before


# --- the daily digest's hour ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("now", "zone", "slot"), [
    # summer: 07:00 BST is 06:00 UTC
    (dt.datetime(2026, 7, 15, 6, 30, tzinfo=dt.UTC), LONDON, dt.datetime(2026, 7, 15, 6, tzinfo=dt.UTC)),
    (dt.datetime(2026, 7, 15, 5, 59, tzinfo=dt.UTC), LONDON, dt.datetime(2026, 7, 14, 6, tzinfo=dt.UTC)),
    # winter: 07:00 GMT is 07:00 UTC
    (dt.datetime(2026, 12, 15, 6, 30, tzinfo=dt.UTC), LONDON, dt.datetime(2026, 12, 14, 7, tzinfo=dt.UTC)),
    (dt.datetime(2026, 12, 15, 7, 0, tzinfo=dt.UTC), LONDON, dt.datetime(2026, 12, 15, 7, tzinfo=dt.UTC)),
    # the morning the clocks go forward (29 March 2026): yesterday's 07:00 was still GMT
    (dt.datetime(2026, 3, 29, 5, 30, tzinfo=dt.UTC), LONDON, dt.datetime(2026, 3, 28, 7, tzinfo=dt.UTC)),
    (dt.datetime(2026, 3, 29, 6, 0, tzinfo=dt.UTC), LONDON, dt.datetime(2026, 3, 29, 6, tzinfo=dt.UTC)),
    # New York: 07:00 EDT is 11:00 UTC
    (dt.datetime(2026, 7, 15, 10, 0, tzinfo=dt.UTC), NEW_YORK, dt.datetime(2026, 7, 14, 11, tzinfo=dt.UTC)),
    (dt.datetime(2026, 7, 15, 11, 0, tzinfo=dt.UTC), NEW_YORK, dt.datetime(2026, 7, 15, 11, tzinfo=dt.UTC)),
    # UTC, as before
    (dt.datetime(2026, 7, 15, 6, 30, tzinfo=dt.UTC), dt.UTC, dt.datetime(2026, 7, 14, 7, tzinfo=dt.UTC)),
])
def test_the_digest_hour_is_on_the_company_clock(now, zone, slot):
    assert watch.digest_slot(now, 7, zone) == slot
    assert watch.digest_slot(now, 7, zone).utcoffset() == dt.timedelta(0)


def _digest_at(tmp_path, name: str, now: dt.datetime, **zone) -> object:
    """A ledger whose digest clock started the day before at 08:00 UTC and has one open exception."""
    url = f"sqlite:///{tmp_path}/{name}.sqlite"
    with Ledger.from_url(url, clock=lambda: dt.datetime(2026, 7, 14, 8, tzinfo=dt.UTC)) as early:
        early.record_sync_success(watch.DIGEST_SYNC_NAME)
        p = problem("sku_unknown_to_erp", Entity.SKU, "SKU-TZ", sku="SKU-TZ")
        early.raise_exception(p.kind, p.owner_team, p.entity_type, p.entity_id, p.message, p.action, p.detail)
    with Ledger.from_url(url) as ledger:
        return watch.send_digest_if_due(ledger, AlertRouting(), now, 7, **zone)


def test_at_half_past_seven_uk_summer_time_the_digest_goes_out_in_london_but_not_on_utc(tmp_path):
    now = dt.datetime(2026, 7, 15, 6, 30, tzinfo=dt.UTC)  # 07:30 BST
    sent = _digest_at(tmp_path, "london", now, zone=LONDON)
    assert sent is not None and [a.team for a in sent.alerts] == ["ecommerce"]  # the SKU's owner
    assert _digest_at(tmp_path, "utc", now) is None  # 06:30 UTC: before 07:00 UTC
