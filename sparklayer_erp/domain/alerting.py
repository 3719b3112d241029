"""Who is told what, and when: alerts for new exceptions and failed syncs, without an alert storm.

Rules: an exception is announced once, when it first opens (its ``alerted_at`` is then set); everything new
for a team in one evaluation goes out as ONE message; accepted exceptions are never announced; a digest of
everything still open goes to each team when it is due. Failed syncs are announced to operations.

Every alert names what it is about (order with its PO/order label, customer, SKU, …) and carries ONE link to
where a person acts in the Dagster UI: the ``integration_exceptions`` asset page for exceptions and the
digest, the failed run for a sync failure. Links are built here from the UI's root URL (``DAGSTER_UI_URL``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

MAX_ITEMS_PER_MESSAGE = 50
EXCEPTIONS_ASSET = "integration_exceptions"  # the asset whose page lists every open exception

_ENTITY_NOUNS = {"order": "order", "erp_order": "ERP order", "customer": "customer", "sku": "SKU",
                 "price_list": "price list", "dataset": "data set"}


def exceptions_link(ui_url: str) -> str:
    """The Dagster UI page of the exceptions asset (open exceptions, their ids, accept them): '' without a UI."""
    return f"{ui_url.rstrip('/')}/assets/{EXCEPTIONS_ASSET}" if ui_url else ""


def run_link(ui_url: str, run_id: str) -> str:
    """The Dagster UI page of one run: '' without a UI or a run id."""
    return f"{ui_url.rstrip('/')}/runs/{quote(run_id, safe='')}" if ui_url and run_id else ""


@dataclass(frozen=True)
class AlertItem:
    exception_id: int
    kind: str
    owner_team: str
    entity_type: str
    entity_id: str
    message: str
    action: str
    first_seen: dt.datetime
    count: int
    status: str = "open"  # open / accepted
    alerted: bool = False
    label: str = ""  # how people know the entity, e.g. the PO/order number of a purchase ("#9001")

    @property
    def name(self) -> str:
        """What a person searches for: "order #9001 (purchase P-1)", "customer C1003", "SKU SKU-OJ-S"."""
        noun = _ENTITY_NOUNS.get(self.entity_type, self.entity_type.replace("_", " "))
        if self.label and self.label != self.entity_id:
            return f"{noun} {self.label} ({self.entity_id})"
        return f"{noun} {self.entity_id}"


@dataclass(frozen=True)
class Alert:
    team: str
    category: str  # "new" | "digest" | "sync_failure"
    subject: str
    lines: tuple[str, ...]
    exception_ids: tuple[int, ...] = ()
    link: str = ""  # where a person acts in the Dagster UI
    link_label: str = "Open in Dagster"

    @property
    def body(self) -> str:
        """Everything below the subject: the items, then the link."""
        tail = f"\n\n{self.link_label}: {self.link}" if self.link else ""
        return "\n".join(self.lines) + tail

    @property
    def text(self) -> str:
        return self.subject + "\n\n" + self.body


def _describe(item: AlertItem, now: dt.datetime) -> str:
    age_h = max(0, int((now - item.first_seen).total_seconds() // 3600))
    seen = f"seen {item.count}×, open {age_h} h" if item.count > 1 or age_h else "new"
    return (f"• {item.name} [{item.kind}, exception #{item.exception_id}]: {item.message} "
            f"— What to do: {item.action} ({seen})")


def _capped(lines: list[str]) -> tuple[str, ...]:
    if len(lines) <= MAX_ITEMS_PER_MESSAGE:
        return tuple(lines)
    return (*lines[:MAX_ITEMS_PER_MESSAGE], f"… and {len(lines) - MAX_ITEMS_PER_MESSAGE} more in the Dagster UI.")


def new_exception_alerts(items: Iterable[AlertItem], now: dt.datetime, ui_url: str = "") -> list[Alert]:
    """One message per team for the exceptions that opened since the last evaluation; a single one is named
    in the subject too."""
    by_team: dict[str, list[AlertItem]] = defaultdict(list)
    for item in items:
        if item.status == "open" and not item.alerted:
            by_team[item.owner_team].append(item)
    alerts = []
    for team, group in sorted(by_team.items()):
        group.sort(key=lambda i: (i.kind, i.entity_type, i.entity_id))
        noun = "problem needs" if len(group) == 1 else "problems need"
        about = f": {group[0].name}" if len(group) == 1 else ""
        alerts.append(Alert(
            team=team, category="new",
            subject=f"[sparklayer-erp] {len(group)} new {noun} {team.replace('_', ' ')}{about}",
            lines=_capped([_describe(i, now) for i in group]),
            exception_ids=tuple(i.exception_id for i in group),
            link=exceptions_link(ui_url), link_label="Open the exceptions in Dagster",
        ))
    return alerts


def digest_alerts(items: Iterable[AlertItem], now: dt.datetime, ui_url: str = "") -> list[Alert]:
    """Everything still open, per team, oldest first (accepted ones are left out)."""
    by_team: dict[str, list[AlertItem]] = defaultdict(list)
    for item in items:
        if item.status == "open":
            by_team[item.owner_team].append(item)
    alerts = []
    for team, group in sorted(by_team.items()):
        group.sort(key=lambda i: (i.first_seen, i.kind, i.entity_id))
        alerts.append(Alert(
            team=team, category="digest",
            subject=f"[sparklayer-erp] Daily digest: {len(group)} open for {team.replace('_', ' ')}",
            lines=_capped([_describe(i, now) for i in group]),
            link=exceptions_link(ui_url), link_label="Open the exceptions in Dagster",
        ))
    return alerts


def digest_due(last_digest: dt.datetime | None, now: dt.datetime, every: dt.timedelta) -> bool:
    return last_digest is None or now - last_digest >= every


def sync_failure_alert(sync_name: str, error: str, ui_url: str = "", run_id: str = "") -> Alert:
    return Alert(
        team="operations", category="sync_failure",
        subject=f"[sparklayer-erp] Sync failed: {sync_name}",
        lines=(f"The {sync_name} sync did not finish: {error}",
               "What to do: open the run in the Dagster UI; if it is a connection problem it retries by itself."),
        link=run_link(ui_url, run_id), link_label="Open the failed run in Dagster",
    )
