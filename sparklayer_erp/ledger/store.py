"""The ledger: the integration's own state, behind one small API.

Every method opens its own short transaction (a Session per call) and returns plain frozen dataclasses,
so one ``Ledger`` can be shared by threads, and any number of processes can point at the same database.
Correctness under concurrency comes from the database (unique constraints and single-statement upserts),
never from a read-then-write check in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY,
    Engine,
    Row,
    String,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from sparklayer_erp.domain.models import OwnerTeam
from sparklayer_erp.ledger.digest import redact, request_digest, to_json_doc
from sparklayer_erp.ledger.engine import DEFAULT_URL, make_engine, safe_url, writer
from sparklayer_erp.ledger.migrate import current_revision, downgrade, upgrade
from sparklayer_erp.ledger.models import (
    LIVE_EXCEPTION_PREDICATE,
    AuditLogModel,
    CustomerLinkModel,
    ExceptionModel,
    HandoffModel,
    MonthCloseModel,
    MonthEndPackModel,
    OrderLinkModel,
    PushStateModel,
    SyncStatusModel,
)
from sparklayer_erp.ledger.records import (
    AuditEntry,
    AuditOutcome,
    AuditSystem,
    CustomerLink,
    ExceptionRow,
    ExceptionStatus,
    MonthClose,
    OrderLink,
    PackVersion,
    SyncState,
    SyncStatus,
)
from sparklayer_erp.ledger.types import UtcDateTime, utc_now

__all__ = ["Ledger", "LedgerError", "LedgerConflict", "NotFound", "upgrade", "downgrade", "current_revision"]

ORDER_LINKS: Table = OrderLinkModel.__table__  # type: ignore[assignment]
CUSTOMER_LINKS: Table = CustomerLinkModel.__table__  # type: ignore[assignment]
PUSH_STATE: Table = PushStateModel.__table__  # type: ignore[assignment]
EXCEPTIONS: Table = ExceptionModel.__table__  # type: ignore[assignment]
AUDIT_LOG: Table = AuditLogModel.__table__  # type: ignore[assignment]
SYNC_STATUS: Table = SyncStatusModel.__table__  # type: ignore[assignment]

# Rows per statement for bulk work: well under SQLite's 32,766 bound-parameter limit, and big enough that
# PostgreSQL round trips do not dominate.
PUSH_CHUNK = 5_000
IN_CHUNK = 500
MAX_ERROR_CHARS = 2_000

UPDATABLE_ORDER_FIELDS = frozenset(
    {
        "po_number",
        "erp_order_id",
        "erp_order_number",
        "account_code",
        "payment_method",
        "sync_state",
        "content_hash",
        "last_status_hash",
        "sparklayer_updated_at",
        "total",
        "currency",
    }
)
_LIVE = (ExceptionStatus.OPEN.value, ExceptionStatus.ACCEPTED.value)

T = TypeVar("T")


class LedgerError(Exception):
    """The ledger refused an operation (the message is plain language and never contains secrets)."""


class NotFound(LedgerError, LookupError):
    pass


class LedgerConflict(LedgerError):
    """A write would break a one-to-one rule the database enforces (e.g. a customer mapped twice)."""


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _record(cls: type[T], row: Row[Any], **extra: Any) -> T:
    mapping = row._mapping
    names = cls.__dataclass_fields__  # type: ignore[attr-defined]
    return cls(**{n: mapping[n] for n in names if n in mapping}, **extra)


@contextmanager
def _plain_errors() -> Iterator[None]:
    """Surface our column types' own refusals (naive datetime, float money) as ValueError / TypeError.

    SQLAlchemy wraps them in a StatementError whose text includes the SQL; callers should get the
    plain reason. Database errors (``DBAPIError`` subclasses) pass through unchanged.
    """
    try:
        yield
    except StatementError as exc:
        if type(exc) is StatementError and isinstance(exc.orig, ValueError | TypeError):
            raise exc.orig from None
        raise


def _text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return value


class Ledger:
    """The integration's state store. Construct with :meth:`from_url` (which migrates) or directly.

    ``url`` is any SQLAlchemy URL for SQLite or PostgreSQL; a bare ``postgresql://`` is rewritten to
    ``postgresql+psycopg2://`` (SQLAlchemy 2.1 would pick psycopg 3, which is not installed). An
    ``engine``, if given, must come from :func:`sparklayer_erp.ledger.engine.make_engine` so it carries
    the SQLite locking settings.
    """

    def __init__(
        self,
        url: str | URL = DEFAULT_URL,
        *,
        engine: Engine | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._engine = engine if engine is not None else make_engine(url)
        self._writer = writer(self._engine)
        self._clock = clock
        dialect = self._engine.dialect.name
        if dialect == "postgresql":
            self._insert = postgresql.insert
        elif dialect == "sqlite":
            self._insert = sqlite.insert
        else:
            raise LedgerError(f"the ledger supports SQLite and PostgreSQL, not {dialect}")

    @classmethod
    def from_url(
        cls, url: str | URL = DEFAULT_URL, migrate: bool = True, *, clock: Callable[[], dt.datetime] = utc_now
    ) -> Ledger:
        """A ledger on ``url``; with ``migrate`` the schema is brought to head first (safe to race)."""
        ledger = cls(url, clock=clock)
        if migrate:
            upgrade(ledger._engine)
        return ledger

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({safe_url(self._engine.url)!r})"

    def _now(self, now: dt.datetime | None = None) -> dt.datetime:
        return now if now is not None else self._clock()

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with _plain_errors(), Session(self._engine) as session, session.begin():
            yield session

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        # SQLite: the writer engine begins with BEGIN IMMEDIATE, so a second process waits for the lock.
        with _plain_errors(), Session(self._writer) as session, session.begin():
            yield session

    # ------------------------------------------------------------------ order links

    def claim_order(
        self,
        purchase_id: str,
        account_code: str | None,
        payment_method: str,
        content_hash: str | None,
        *,
        sparklayer_updated_at: dt.datetime | None = None,
        total: Decimal | None = None,
        currency: str | None = None,
        sync_state: str = SyncState.CLAIMED,
        po_number: str | None = None,
    ) -> bool:
        """Claim the right to create the ERP order for ``purchase_id``: True for exactly one caller, ever.

        One INSERT ... ON CONFLICT DO NOTHING against the unique ``purchase_id``: of any number of
        concurrent callers in any number of processes, the database lets exactly one row in.
        """
        _text(purchase_id, "purchase_id")
        now = self._now()
        stmt = (
            self._insert(ORDER_LINKS)
            .values(
                purchase_id=purchase_id,
                account_code=account_code,
                payment_method=str(payment_method),
                sync_state=str(sync_state),
                content_hash=content_hash,
                sparklayer_updated_at=sparklayer_updated_at,
                total=total,
                currency=currency,
                po_number=po_number,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[ORDER_LINKS.c.purchase_id])
        )
        with self._writing() as session:
            return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]

    def claim_orders(self, claims: Sequence[Mapping[str, Any]]) -> set[str]:
        """:meth:`claim_order` for a batch in one transaction; returns the purchase ids this call inserted.

        Each claim holds ``claim_order``'s arguments by name (``purchase_id``, ``account_code``,
        ``payment_method``, ``content_hash`` and optionally the keyword ones). One commit for the batch, so a
        backlog is not paced by the disk's fsync.
        """
        now = self._now()
        rows = []
        for claim in claims:
            _text(claim["purchase_id"], "purchase_id")
            rows.append({
                "purchase_id": claim["purchase_id"],
                "account_code": claim.get("account_code"),
                "payment_method": str(claim["payment_method"]),
                "sync_state": str(claim.get("sync_state", SyncState.CLAIMED)),
                "content_hash": claim.get("content_hash"),
                "sparklayer_updated_at": claim.get("sparklayer_updated_at"),
                "total": claim.get("total"),
                "currency": claim.get("currency"),
                "po_number": claim.get("po_number"),
                "created_at": now,
                "updated_at": now,
            })
        inserted: set[str] = set()
        with self._writing() as session:
            for chunk in _chunks(rows, IN_CHUNK):
                stmt = (
                    self._insert(ORDER_LINKS)
                    .values(list(chunk))
                    .on_conflict_do_nothing(index_elements=[ORDER_LINKS.c.purchase_id])
                    .returning(ORDER_LINKS.c.purchase_id)
                )
                inserted.update(session.execute(stmt).scalars())
        return inserted

    def update_order_links(self, changes: Mapping[str, Mapping[str, Any]]) -> int:
        """:meth:`update_order_link` for many links in one transaction; returns how many links existed."""
        updated = 0
        with self._writing() as session:
            for purchase_id, fields in changes.items():
                values = dict(fields)
                unknown = set(values) - UPDATABLE_ORDER_FIELDS
                if unknown:
                    raise TypeError(f"order links have no updatable field(s): {', '.join(sorted(unknown))}")
                for name in ("payment_method", "sync_state"):
                    if values.get(name) is not None:
                        values[name] = str(values[name])
                result = session.execute(
                    update(ORDER_LINKS).where(ORDER_LINKS.c.purchase_id == purchase_id)
                    .values(**values, updated_at=self._now())
                )
                updated += result.rowcount  # type: ignore[attr-defined]
        return updated

    def get_order_link(self, purchase_id: str) -> OrderLink | None:
        with self._reading() as session:
            row = session.execute(
                select(ORDER_LINKS).where(ORDER_LINKS.c.purchase_id == purchase_id)
            ).one_or_none()
        return None if row is None else _record(OrderLink, row)

    def update_order_link(self, purchase_id: str, **fields: Any) -> OrderLink:
        """Set some of :data:`UPDATABLE_ORDER_FIELDS` on an existing link; ``updated_at`` moves too."""
        unknown = set(fields) - UPDATABLE_ORDER_FIELDS
        if unknown:
            raise TypeError(f"order links have no updatable field(s): {', '.join(sorted(unknown))}")
        for name in ("payment_method", "sync_state"):
            if fields.get(name) is not None:
                fields[name] = str(fields[name])
        stmt = (
            update(ORDER_LINKS)
            .where(ORDER_LINKS.c.purchase_id == purchase_id)
            .values(**fields, updated_at=self._now())
            .returning(*ORDER_LINKS.c)
        )
        with self._writing() as session:
            row = session.execute(stmt).one_or_none()
        if row is None:
            raise NotFound(f"no order link for purchase {purchase_id}")
        return _record(OrderLink, row)

    def order_links(self, states: Iterable[str] | None = None) -> list[OrderLink]:
        """All links, or those in ``states``, oldest first."""
        stmt = select(ORDER_LINKS).order_by(ORDER_LINKS.c.created_at, ORDER_LINKS.c.id)
        if states is not None:
            stmt = stmt.where(ORDER_LINKS.c.sync_state.in_([str(s) for s in states]))
        with self._reading() as session:
            return [_record(OrderLink, row) for row in session.execute(stmt)]

    def order_links_for(self, purchase_ids: Iterable[str]) -> dict[str, OrderLink]:
        """Links for the given purchases, keyed by purchase id (absent ids are simply missing)."""
        ids = sorted(set(purchase_ids))
        found: dict[str, OrderLink] = {}
        with self._reading() as session:
            for chunk in _chunks(ids, IN_CHUNK):
                rows = session.execute(select(ORDER_LINKS).where(ORDER_LINKS.c.purchase_id.in_(chunk)))
                for row in rows:
                    link = _record(OrderLink, row)
                    found[link.purchase_id] = link
        return found

    def find_order_links(self, ref: str) -> list[OrderLink]:
        """Links whose purchase id, ERP order number or PO number is ``ref`` (how a person names an order),
        oldest first."""
        ref = _text(ref, "ref").strip()
        stmt = (
            select(ORDER_LINKS)
            .where((ORDER_LINKS.c.purchase_id == ref) | (ORDER_LINKS.c.erp_order_number == ref)
                   | (ORDER_LINKS.c.po_number == ref))
            .order_by(ORDER_LINKS.c.created_at, ORDER_LINKS.c.id)
        )
        with self._reading() as session:
            return [_record(OrderLink, row) for row in session.execute(stmt)]

    def recent_order_links(self, limit: int, *, with_erp_order: bool = True) -> list[OrderLink]:
        """The ``limit`` most recently updated links (only those with an ERP order by default), newest first."""
        stmt = select(ORDER_LINKS).order_by(ORDER_LINKS.c.updated_at.desc(), ORDER_LINKS.c.id.desc()).limit(limit)
        if with_erp_order:
            stmt = stmt.where(ORDER_LINKS.c.erp_order_id.is_not(None))
        with self._reading() as session:
            return [_record(OrderLink, row) for row in session.execute(stmt)]

    # ------------------------------------------------------------------ customer links

    def upsert_customer_link(
        self,
        account_code: str,
        sparklayer_customer_id: str | None,
        platform_customer_id: str | None = None,
        email: str | None = None,
    ) -> CustomerLink:
        """Record that ERP ``account_code`` is SparkLayer customer ``sparklayer_customer_id``.

        Full replace: the values given are the truth (None clears). A SparkLayer customer already linked
        to another account raises :class:`LedgerConflict`; the mapping is one-to-one.
        """
        _text(account_code, "account_code")
        now = self._now()
        stmt = self._insert(CUSTOMER_LINKS).values(
            account_code=account_code,
            sparklayer_customer_id=sparklayer_customer_id,
            platform_customer_id=platform_customer_id,
            email=email,
            created_at=now,
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[CUSTOMER_LINKS.c.account_code],
            set_={
                "sparklayer_customer_id": stmt.excluded.sparklayer_customer_id,
                "platform_customer_id": stmt.excluded.platform_customer_id,
                "email": stmt.excluded.email,
                "updated_at": stmt.excluded.updated_at,
            },
        ).returning(*CUSTOMER_LINKS.c)
        try:
            with self._writing() as session:
                row = session.execute(stmt).one()
        except IntegrityError as exc:
            raise LedgerConflict(
                f"SparkLayer customer {sparklayer_customer_id} is already linked to another ERP account"
            ) from exc
        return _record(CustomerLink, row)

    def customer_link_by_sparklayer_id(self, sparklayer_customer_id: str) -> CustomerLink | None:
        return self._one_customer(CUSTOMER_LINKS.c.sparklayer_customer_id == sparklayer_customer_id)

    def customer_link_by_account_code(self, account_code: str) -> CustomerLink | None:
        return self._one_customer(CUSTOMER_LINKS.c.account_code == account_code)

    def _one_customer(self, condition: Any) -> CustomerLink | None:
        with self._reading() as session:
            row = session.execute(select(CUSTOMER_LINKS).where(condition)).one_or_none()
        return None if row is None else _record(CustomerLink, row)

    def customer_links(self) -> list[CustomerLink]:
        with self._reading() as session:
            rows = session.execute(select(CUSTOMER_LINKS).order_by(CUSTOMER_LINKS.c.account_code))
            return [_record(CustomerLink, row) for row in rows]

    # ------------------------------------------------------------------ push state

    def load_push_hashes(self, entity_kind: str) -> dict[str, str]:
        """Key → content hash of everything of ``entity_kind`` last pushed."""
        stmt = select(PUSH_STATE.c.entity_key, PUSH_STATE.c.content_hash).where(
            PUSH_STATE.c.entity_kind == entity_kind
        )
        with self._reading() as session:
            return {key: digest for key, digest in session.execute(stmt)}

    def save_push_hashes(
        self, entity_kind: str, mapping: Mapping[str, str], *, pushed_at: dt.datetime | None = None
    ) -> None:
        """Upsert key → hash for ``entity_kind`` in chunks, in one transaction (all or nothing).

        A key whose hash did not change is left untouched (its ``pushed_at`` keeps the first push).
        """
        if not mapping:
            return
        when = self._now(pushed_at)
        items = list(mapping.items())
        with self._writing() as session:
            for chunk in _chunks(items, PUSH_CHUNK):
                session.execute(*self._push_upsert(entity_kind, chunk, when))

    def _push_upsert(
        self, entity_kind: str, chunk: Sequence[tuple[str, str]], when: dt.datetime
    ) -> tuple[Any, ...]:
        """One statement per chunk. psycopg2 runs a plain executemany row by row (a round trip each),
        so PostgreSQL gets ``INSERT ... SELECT FROM unnest(keys, hashes)``: two array parameters.
        SQLite's executemany is already a prepared-statement loop in C."""
        if self.dialect == "postgresql":
            pairs = func.unnest(
                bindparam("keys", [k for k, _ in chunk], type_=ARRAY(String)),
                bindparam("hashes", [h for _, h in chunk], type_=ARRAY(String)),
            ).table_valued("k", "h").render_derived(name="pairs")
            source = select(
                literal(entity_kind, String), pairs.c.k, pairs.c.h, literal(when, UtcDateTime())
            )
            base = self._insert(PUSH_STATE).from_select(
                ["entity_kind", "entity_key", "content_hash", "pushed_at"], source
            )
            params: tuple[Any, ...] = ()
        else:
            base = self._insert(PUSH_STATE)
            params = (
                [
                    {"entity_kind": entity_kind, "entity_key": k, "content_hash": h, "pushed_at": when}
                    for k, h in chunk
                ],
            )
        stmt = base.on_conflict_do_update(
            index_elements=[PUSH_STATE.c.entity_kind, PUSH_STATE.c.entity_key],
            set_={"content_hash": base.excluded.content_hash, "pushed_at": base.excluded.pushed_at},
            where=PUSH_STATE.c.content_hash != base.excluded.content_hash,
        )
        return (stmt, *params)

    def delete_push_hashes(self, entity_kind: str, keys: Iterable[str]) -> int:
        """Forget keys (e.g. entities removed from SparkLayer); returns how many rows went."""
        key_list = sorted(set(keys))
        deleted = 0
        with self._writing() as session:
            for chunk in _chunks(key_list, IN_CHUNK):
                result = session.execute(
                    delete(PUSH_STATE).where(
                        PUSH_STATE.c.entity_kind == entity_kind, PUSH_STATE.c.entity_key.in_(chunk)
                    )
                )
                deleted += result.rowcount  # type: ignore[attr-defined]
        return deleted

    # ------------------------------------------------------------------ exceptions

    def raise_exception(
        self,
        kind: str,
        owner_team: OwnerTeam | str,
        entity_type: str,
        entity_id: str,
        message: str,
        action: str,
        detail: Mapping[str, Any] | None = None,
    ) -> ExceptionRow:
        """Open (or keep open) the exception ``kind`` on an entity; one atomic upsert.

        * no live row: a new open row, ``is_new=True``;
        * an open row: count + 1, last_seen, owner/message/action/detail refreshed;
        * an ACCEPTED row: the same bump, but it stays accepted (a person's decision is respected);
        * only RESOLVED rows: they are history, a new open row starts.
        """
        team = OwnerTeam(owner_team).value
        for value, what in ((kind, "kind"), (entity_type, "entity_type"), (entity_id, "entity_id")):
            _text(value, what)
        _text(message, "message")
        _text(action, "action")
        now = self._now()
        stmt = self._insert(EXCEPTIONS).values(
            kind=kind,
            owner_team=team,
            entity_type=entity_type,
            entity_id=str(entity_id),
            message=message,
            action=action,
            detail=to_json_doc(redact(detail)) if detail is not None else None,
            first_seen=now,
            last_seen=now,
            count=1,
            status=ExceptionStatus.OPEN.value,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[EXCEPTIONS.c.kind, EXCEPTIONS.c.entity_type, EXCEPTIONS.c.entity_id],
            # Textually the partial index's predicate, so both databases pick that index as the target.
            index_where=text(LIVE_EXCEPTION_PREDICATE),
            set_={
                "count": EXCEPTIONS.c.count + 1,
                "last_seen": stmt.excluded.last_seen,
                "owner_team": stmt.excluded.owner_team,
                "message": stmt.excluded.message,
                "action": stmt.excluded.action,
                "detail": stmt.excluded.detail,
            },
        ).returning(*EXCEPTIONS.c)
        with self._writing() as session:
            row = session.execute(stmt).one()
        return _record(ExceptionRow, row, is_new=row.count == 1)

    def resolve_unseen(
        self,
        kind: str,
        seen: Iterable[tuple[str, str] | str],
        now: dt.datetime | None = None,
    ) -> int:
        """Resolve every live row of ``kind`` whose entity was not seen in this evaluation.

        ``seen`` holds ``(entity_type, entity_id)`` pairs, or bare entity ids (matching any entity type).
        Accepted rows are resolved too: the cause is gone, so the acceptance has nothing left to cover
        (if the problem comes back it is a new occurrence and opens a new row). Returns the count.
        """
        pairs: set[tuple[str, str]] = set()
        ids: set[str] = set()
        for item in seen:
            if isinstance(item, tuple):
                pairs.add((str(item[0]), str(item[1])))
            else:
                ids.add(str(item))
        when = self._now(now)
        resolved = 0
        with self._writing() as session:
            live = session.execute(
                select(EXCEPTIONS.c.id, EXCEPTIONS.c.entity_type, EXCEPTIONS.c.entity_id).where(
                    EXCEPTIONS.c.kind == kind, EXCEPTIONS.c.status.in_(_LIVE)
                )
            ).all()
            gone = [
                r.id for r in live if (r.entity_type, r.entity_id) not in pairs and r.entity_id not in ids
            ]
            for chunk in _chunks(gone, IN_CHUNK):
                result = session.execute(
                    update(EXCEPTIONS)
                    .where(EXCEPTIONS.c.id.in_(chunk), EXCEPTIONS.c.status.in_(_LIVE))
                    .values(status=ExceptionStatus.RESOLVED.value, resolved_at=when)
                )
                resolved += result.rowcount  # type: ignore[attr-defined]
        return resolved

    def resolve(
        self, kind: str, entity_type: str, entity_id: str, now: dt.datetime | None = None
    ) -> bool:
        """Resolve the live exception ``kind`` on one entity; False if there was none."""
        stmt = (
            update(EXCEPTIONS)
            .where(
                EXCEPTIONS.c.kind == kind,
                EXCEPTIONS.c.entity_type == entity_type,
                EXCEPTIONS.c.entity_id == str(entity_id),
                EXCEPTIONS.c.status.in_(_LIVE),
            )
            .values(status=ExceptionStatus.RESOLVED.value, resolved_at=self._now(now))
        )
        with self._writing() as session:
            return session.execute(stmt).rowcount > 0  # type: ignore[attr-defined]

    def accept(self, exception_id: int, reason: str, by: str) -> ExceptionRow:
        """A person decides a live exception is fine: it stops being open, and re-raising keeps it so."""
        _text(reason, "reason")
        _text(by, "by")
        stmt = (
            update(EXCEPTIONS)
            .where(EXCEPTIONS.c.id == exception_id, EXCEPTIONS.c.status.in_(_LIVE))
            .values(
                status=ExceptionStatus.ACCEPTED.value,
                accepted_reason=reason,
                accepted_by=by,
                accepted_at=self._now(),
            )
            .returning(*EXCEPTIONS.c)
        )
        with self._writing() as session:
            row = session.execute(stmt).one_or_none()
        if row is not None:
            return _record(ExceptionRow, row)
        existing = self.get_exception(exception_id)
        if existing is None:
            raise NotFound(f"no exception with id {exception_id}")
        raise LedgerError(f"exception {exception_id} is already resolved; there is nothing to accept")

    def get_exception(self, exception_id: int) -> ExceptionRow | None:
        with self._reading() as session:
            row = session.execute(select(EXCEPTIONS).where(EXCEPTIONS.c.id == exception_id)).one_or_none()
        return None if row is None else _record(ExceptionRow, row)

    def open_exceptions(
        self,
        kind: str | None = None,
        owner_team: OwnerTeam | str | None = None,
        *,
        include_accepted: bool = False,
    ) -> list[ExceptionRow]:
        """Open exceptions (optionally also accepted ones), oldest first."""
        statuses = _LIVE if include_accepted else (ExceptionStatus.OPEN.value,)
        stmt = (
            select(EXCEPTIONS)
            .where(EXCEPTIONS.c.status.in_(statuses))
            .order_by(EXCEPTIONS.c.first_seen, EXCEPTIONS.c.id)
        )
        if kind is not None:
            stmt = stmt.where(EXCEPTIONS.c.kind == kind)
        if owner_team is not None:
            stmt = stmt.where(EXCEPTIONS.c.owner_team == OwnerTeam(owner_team).value)
        with self._reading() as session:
            return [_record(ExceptionRow, row) for row in session.execute(stmt)]

    def exceptions(
        self,
        *,
        statuses: Iterable[ExceptionStatus | str] | None = None,
        owner_team: OwnerTeam | str | None = None,
        entity_type: str | None = None,
        entity_ids: Iterable[str] | None = None,
        mentioning: str | None = None,
        limit: int | None = None,
    ) -> list[ExceptionRow]:
        """Exceptions in any status (or only ``statuses``), oldest first, optionally filtered.

        ``mentioning`` keeps rows whose message or detail contains the text (case-sensitive, no wildcards):
        how a PO number, which the ledger keeps only in the words of an order's exceptions, is found.
        """
        stmt = select(EXCEPTIONS).order_by(EXCEPTIONS.c.first_seen, EXCEPTIONS.c.id)
        if statuses is not None:
            stmt = stmt.where(EXCEPTIONS.c.status.in_([ExceptionStatus(s).value for s in statuses]))
        if owner_team is not None:
            stmt = stmt.where(EXCEPTIONS.c.owner_team == OwnerTeam(owner_team).value)
        if entity_type is not None:
            stmt = stmt.where(EXCEPTIONS.c.entity_type == entity_type)
        if entity_ids is not None:
            ids = sorted({str(i) for i in entity_ids})
            if not ids:
                return []
            stmt = stmt.where(EXCEPTIONS.c.entity_id.in_(ids))
        if mentioning is not None:
            needle = _text(mentioning, "mentioning")
            stmt = stmt.where(
                EXCEPTIONS.c.message.contains(needle, autoescape=True)
                | cast(EXCEPTIONS.c.detail, Text).contains(needle, autoescape=True)
            )
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._reading() as session:
            return [_record(ExceptionRow, row) for row in session.execute(stmt)]

    def mark_alerted(self, ids: Iterable[int], at: dt.datetime | None = None) -> int:
        """Record that these exceptions were alerted on (for alert de-duplication)."""
        id_list = sorted(set(ids))
        when = self._now(at)
        marked = 0
        with self._writing() as session:
            for chunk in _chunks(id_list, IN_CHUNK):
                result = session.execute(
                    update(EXCEPTIONS).where(EXCEPTIONS.c.id.in_(chunk)).values(alerted_at=when)
                )
                marked += result.rowcount  # type: ignore[attr-defined]
        return marked

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        system: AuditSystem | str,
        operation: str,
        key: str,
        request_body: bytes | str | Mapping[str, Any] | list[Any] | None,
        outcome: AuditOutcome | str,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Record one write to another system; stores a SHA-256 of the body, never the body itself.

        Secret-looking keys in ``detail`` (token, password, authorization, ...) are masked.
        Returns the audit row id.
        """
        stmt = (
            self._insert(AUDIT_LOG)
            .values(
                at=self._now(),
                system=AuditSystem(system).value,
                operation=_text(operation, "operation"),
                key=_text(str(key), "key"),
                request_digest=request_digest(request_body),
                outcome=AuditOutcome(outcome).value,
                detail=to_json_doc(redact(detail)) if detail is not None else None,
            )
            .returning(AUDIT_LOG.c.id)
        )
        with self._writing() as session:
            return int(session.execute(stmt).scalar_one())

    def audit_many(
        self,
        entries: Sequence[
            tuple[AuditSystem | str, str, str, bytes | str | Mapping[str, Any] | list[Any] | None,
                  AuditOutcome | str, Mapping[str, Any] | None]
        ],
    ) -> int:
        """:meth:`audit` for a batch of ``(system, operation, key, request_body, outcome, detail)`` in one
        transaction; returns how many rows were written."""
        now = self._now()
        rows = [
            {
                "at": now,
                "system": AuditSystem(system).value,
                "operation": _text(operation, "operation"),
                "key": _text(str(key), "key"),
                "request_digest": request_digest(body),
                "outcome": AuditOutcome(outcome).value,
                "detail": to_json_doc(redact(detail)) if detail is not None else None,
            }
            for system, operation, key, body, outcome, detail in entries
        ]
        if rows:
            with self._writing() as session:
                session.execute(self._insert(AUDIT_LOG), rows)
        return len(rows)

    def audit_entries(
        self,
        *,
        key: str | None = None,
        system: AuditSystem | str | None = None,
        operation: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        """Audit rows, oldest first, optionally filtered."""
        stmt = select(AUDIT_LOG).order_by(AUDIT_LOG.c.id)
        if key is not None:
            stmt = stmt.where(AUDIT_LOG.c.key == key)
        if system is not None:
            stmt = stmt.where(AUDIT_LOG.c.system == AuditSystem(system).value)
        if operation is not None:
            stmt = stmt.where(AUDIT_LOG.c.operation == operation)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._reading() as session:
            return [_record(AuditEntry, row) for row in session.execute(stmt)]

    # ------------------------------------------------------------------ sync status

    def _touch_sync(self, name: str, values: dict[str, Any]) -> None:
        _text(name, "name")
        stmt = self._insert(SYNC_STATUS).values(name=name, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[SYNC_STATUS.c.name], set_={k: stmt.excluded[k] for k in values}
        )
        with self._writing() as session:
            session.execute(stmt)

    def record_sync_start(self, name: str) -> None:
        self._touch_sync(name, {"last_started_at": self._now()})

    def record_sync_success(self, name: str, counts: Mapping[str, Any] | None = None) -> None:
        self._touch_sync(
            name,
            {"last_success_at": self._now(), "last_counts": to_json_doc(counts) if counts else None},
        )

    def record_sync_failure(self, name: str, error: BaseException | str) -> None:
        """Record a failed run. The text kept is the caller's message: it must not contain secrets."""
        text_ = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self._touch_sync(name, {"last_failure_at": self._now(), "last_error": text_[:MAX_ERROR_CHARS]})

    def sync_status(self, name: str) -> SyncStatus | None:
        with self._reading() as session:
            row = session.execute(select(SYNC_STATUS).where(SYNC_STATUS.c.name == name)).one_or_none()
        return None if row is None else _record(SyncStatus, row)

    def sync_statuses(self) -> list[SyncStatus]:
        with self._reading() as session:
            rows = session.execute(select(SYNC_STATUS).order_by(SYNC_STATUS.c.name))
            return [_record(SyncStatus, row) for row in rows]

    # ------------------------------------------------------------------ hand-offs between runs

    def save_handoff(
        self,
        key: str,
        partition: str,
        *,
        run_id: str,
        format: str,
        payload: bytes,
        keep_days: int,
        now: dt.datetime | None = None,
    ) -> int:
        """Store ``payload`` as the value of ``key``/``partition`` (replacing the last one) and, in the same
        transaction, delete every hand-off not written for ``keep_days``; returns how many old rows went."""
        _text(key, "key")
        if keep_days < 1:
            raise ValueError("hand-offs must be kept at least one day")
        table: Table = HandoffModel.__table__  # type: ignore[assignment]
        when = self._now(now)
        values = {"run_id": run_id, "format": format, "payload": payload, "size_bytes": len(payload),
                  "written_at": when}
        stmt = self._insert(table).values(key=key, partition=partition, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key, table.c.partition], set_={k: stmt.excluded[k] for k in values}
        )
        with self._writing() as session:
            session.execute(stmt)
            gone = session.execute(delete(table).where(table.c.written_at < when - dt.timedelta(days=keep_days)))
        return gone.rowcount  # type: ignore[attr-defined]

    def load_handoff(self, key: str, partition: str) -> dict[str, Any] | None:
        """The stored value of ``key``/``partition``: ``run_id``, ``format``, ``payload``, ``written_at``."""
        table: Table = HandoffModel.__table__  # type: ignore[assignment]
        stmt = select(table.c.run_id, table.c.format, table.c.payload, table.c.written_at).where(
            table.c.key == key, table.c.partition == partition
        )
        with self._reading() as session:
            row = session.execute(stmt).one_or_none()
        return None if row is None else {**row._mapping, "payload": bytes(row.payload)}

    def handoffs(self) -> list[dict[str, Any]]:
        """What is stored (without the values): ``key``, ``partition``, ``run_id``, ``size_bytes``, ``written_at``."""
        table: Table = HandoffModel.__table__  # type: ignore[assignment]
        stmt = select(table.c.key, table.c.partition, table.c.run_id, table.c.size_bytes, table.c.written_at)
        with self._reading() as session:
            return [dict(r._mapping) for r in session.execute(stmt.order_by(table.c.key, table.c.partition))]

    # ------------------------------------------------------------------ month-end packs and closes

    def reserve_pack_version(self, month: str, run_id: str, *, now: dt.datetime | None = None) -> int:
        """The next version number of ``month``'s pack (1, 2, ...), taken for ``run_id``. The (month, version)
        key makes two concurrent runs get different numbers: the loser of an insert takes the next one."""
        _month_key(month)
        table: Table = MonthEndPackModel.__table__  # type: ignore[assignment]
        when = self._now(now)
        for _ in range(50):
            with self._writing() as session:
                top = session.execute(select(func.max(table.c.version)).where(table.c.month == month)).scalar()
                version = int(top or 0) + 1
                stmt = self._insert(table).values(month=month, version=version, run_id=run_id or "",
                                                  created_at=when)
                stmt = stmt.on_conflict_do_nothing(index_elements=[table.c.month, table.c.version])
                if session.execute(stmt).rowcount == 1:  # type: ignore[attr-defined]
                    return version
        raise LedgerConflict(f"could not take a pack version for {month}: too many runs at once")

    def complete_pack_version(self, month: str, version: int, *, path: str, checksum: str, content: bytes,
                              close_ready: bool) -> PackVersion:
        """Record what version ``version`` of ``month`` wrote. Written once: a finished version never changes."""
        table: Table = MonthEndPackModel.__table__  # type: ignore[assignment]
        stmt = (update(table)
                .where(table.c.month == month, table.c.version == version, table.c.checksum.is_(None))
                .values(path=path, checksum=checksum, content=content, size_bytes=len(content),
                        close_ready=close_ready))
        with self._writing() as session:
            if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
                raise LedgerConflict(f"pack {month} version {version} was not reserved or is already written")
        found = self.pack_version(month, version)
        assert found is not None
        return found

    def pack_versions(self, month: str) -> list[PackVersion]:
        """Every finished version of ``month``'s pack, oldest first."""
        _month_key(month)
        table: Table = MonthEndPackModel.__table__  # type: ignore[assignment]
        stmt = (select(*(c for c in table.c if c.name != "content"))
                .where(table.c.month == month, table.c.checksum.is_not(None)).order_by(table.c.version))
        with self._reading() as session:
            return [_record(PackVersion, row) for row in session.execute(stmt)]

    def pack_version(self, month: str, version: int | None = None) -> PackVersion | None:
        """One finished version of ``month``'s pack; without ``version`` the newest."""
        versions = self.pack_versions(month)
        if version is None:
            return versions[-1] if versions else None
        return next((v for v in versions if v.version == version), None)

    def pack_content(self, month: str, version: int) -> bytes | None:
        """The workbook of a finished version, as written."""
        table: Table = MonthEndPackModel.__table__  # type: ignore[assignment]
        stmt = select(table.c.content).where(table.c.month == month, table.c.version == version,
                                             table.c.checksum.is_not(None))
        with self._reading() as session:
            content = session.execute(stmt).scalar_one_or_none()
        return None if content is None else bytes(content)

    def record_month_close(self, month: str, version: int, run_id: str,
                           *, now: dt.datetime | None = None) -> tuple[MonthClose, bool]:
        """Mark ``month`` close-ready on pack ``version``; the first close stays (one INSERT ... ON CONFLICT DO
        NOTHING on the month). Returns the month's close and whether this call made it."""
        _month_key(month)
        table: Table = MonthCloseModel.__table__  # type: ignore[assignment]
        stmt = self._insert(table).values(month=month, version=version, run_id=run_id or "",
                                          closed_at=self._now(now))
        stmt = stmt.on_conflict_do_nothing(index_elements=[table.c.month])
        with self._writing() as session:
            made = session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
        close = self.month_close(month)
        assert close is not None
        return close, made

    def month_close(self, month: str) -> MonthClose | None:
        """The version ``month`` was closed on, or None while it has not been close-ready."""
        _month_key(month)
        table: Table = MonthCloseModel.__table__  # type: ignore[assignment]
        with self._reading() as session:
            row = session.execute(select(table).where(table.c.month == month)).one_or_none()
        return None if row is None else _record(MonthClose, row)


def _month_key(month: str) -> str:
    """``YYYY-MM``: how the pack tables name a month."""
    if not (isinstance(month, str) and len(month) == 7 and month[4] == "-" and month[:4].isdigit()
            and month[5:].isdigit() and 1 <= int(month[5:]) <= 12):
        raise ValueError(f"a month is written YYYY-MM, got {month!r}")
    return month
