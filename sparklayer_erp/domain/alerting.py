"""Who is told what, and when: alerts for new exceptions and failed syncs, without an alert storm.

Rules: an exception is announced once, when it first opens (its ``alerted_at`` is then set); everything new
for a team in one evaluation goes out as ONE message; accepted exceptions are never announced; a digest of
everything still open goes to each team when it is due. Failed syncs are announced to operations.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

MAX_ITEMS_PER_MESSAGE = 50


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


@dataclass(frozen=True)
class Alert:
    team: str
    category: str  # "new" | "digest" | "sync_failure"
    subject: str
    lines: tuple[str, ...]
    exception_ids: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        return self.subject + "\n\n" + "\n".join(self.lines)


def _describe(item: AlertItem, now: dt.datetime) -> str:
    age_h = max(0, int((now - item.first_seen).total_seconds() // 3600))
    seen = f"seen {item.count}×, open {age_h} h" if item.count > 1 or age_h else "new"
    return f"• [{item.kind}] {item.entity_type} {item.entity_id}: {item.message} — What to do: {item.action} ({seen})"


def _capped(lines: list[str]) -> tuple[str, ...]:
    if len(lines) <= MAX_ITEMS_PER_MESSAGE:
        return tuple(lines)
    return (*lines[:MAX_ITEMS_PER_MESSAGE], f"… and {len(lines) - MAX_ITEMS_PER_MESSAGE} more in the Dagster UI.")


def new_exception_alerts(items: Iterable[AlertItem], now: dt.datetime) -> list[Alert]:
    """One message per team for the exceptions that opened since the last evaluation."""
    by_team: dict[str, list[AlertItem]] = defaultdict(list)
    for item in items:
        if item.status == "open" and not item.alerted:
            by_team[item.owner_team].append(item)
    alerts = []
    for team, group in sorted(by_team.items()):
        group.sort(key=lambda i: (i.kind, i.entity_type, i.entity_id))
        noun = "problem needs" if len(group) == 1 else "problems need"
        alerts.append(Alert(
            team=team, category="new",
            subject=f"[sparklayer-erp] {len(group)} new {noun} {team.replace('_', ' ')}",
            lines=_capped([_describe(i, now) for i in group]),
            exception_ids=tuple(i.exception_id for i in group),
        ))
    return alerts


def digest_alerts(items: Iterable[AlertItem], now: dt.datetime) -> list[Alert]:
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
        ))
    return alerts


def digest_due(last_digest: dt.datetime | None, now: dt.datetime, every: dt.timedelta) -> bool:
    return last_digest is None or now - last_digest >= every


def sync_failure_alert(sync_name: str, error: str) -> Alert:
    return Alert(
        team="operations", category="sync_failure",
        subject=f"[sparklayer-erp] Sync failed: {sync_name}",
        lines=(f"The {sync_name} sync did not finish: {error}",
               "What to do: open the run in the Dagster UI; if it is a connection problem it retries by itself."),
    )
