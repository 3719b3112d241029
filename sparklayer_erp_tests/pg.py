"""PostgreSQL for tests (the ledger's, Dagster's instance and the multi-process tests share this).

Which server: ``SPARKLAYER_ERP_TEST_PG_URL`` (a server/admin URL, any database on it) if set; else
``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres`` if it answers; else a throw-away cluster this test
session starts itself (:func:`start_throwaway_postgres`: Debian's ``/usr/lib/postgresql/*/bin`` or ``initdb`` on
PATH, else the binaries of the ``pgserver`` wheel in the venv) in a temp dir on a free port, stopped and deleted
at session end. The chosen URL is exported as ``SPARKLAYER_ERP_TEST_PG_URL`` so subprocesses use the same server.

Each test database gets a unique name and is dropped with ``WITH (FORCE)`` so a leaked connection cannot leave
it behind. A server that cannot be found or started is a failure unless ``SPARKLAYER_ERP_ALLOW_NO_PG=1`` (then
tests skip): see :func:`require_server`.
"""

from __future__ import annotations

import atexit
import glob
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

DEFAULT_SERVER_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
SERVER_URL_ENV = "SPARKLAYER_ERP_TEST_PG_URL"
ALLOW_NO_PG_ENV = "SPARKLAYER_ERP_ALLOW_NO_PG"

Kind = Literal["system", "pgserver"]


class PostgresUnavailable(RuntimeError):
    pass


def server_url() -> URL:
    """The admin URL, with the driver made explicit (SQLAlchemy 2.1 maps bare postgresql:// to psycopg3)."""
    url = make_url(os.environ.get(SERVER_URL_ENV) or DEFAULT_SERVER_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg2")
    return url


def no_pg_allowed() -> bool:
    return os.environ.get(ALLOW_NO_PG_ENV, "").strip().lower() in ("1", "true", "yes")


def _admin_engine(url: URL) -> sa.Engine:
    return sa.create_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 5}
    )


def check_server(url: URL | None = None) -> None:
    """Raise :class:`PostgresUnavailable` (without the password) if the server does not answer."""
    url = url or server_url()
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        safe = url.render_as_string(hide_password=True)
        raise PostgresUnavailable(f"PostgreSQL at {safe} is unreachable: {type(exc.orig).__name__}") from None
    finally:
        engine.dispose()


# --- a throw-away cluster ------------------------------------------------------------------------------------


def find_bin_dir(kind: Kind) -> Path | None:
    """Where ``initdb``/``pg_ctl`` live: ``system`` = Debian's newest /usr/lib/postgresql/*/bin, else the
    directory of ``initdb`` on PATH; ``pgserver`` = the binaries bundled in the pgserver wheel (not imported:
    importing it creates runtime dirs and, as root, OS users)."""
    if kind == "system":
        debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
        found = debian[-1] if debian else shutil.which("initdb")
    elif kind == "pgserver":
        spec = importlib.util.find_spec("pgserver")
        origin = spec.origin if spec else None
        found = str(Path(origin).parent / "pginstall" / "bin" / "initdb") if origin else None
    else:
        raise ValueError(f"unknown PostgreSQL kind {kind!r}")
    if found and Path(found).is_file() and (Path(found).parent / "pg_ctl").is_file():
        return Path(found).parent
    return None


def _os_user_for_postgres() -> str | None:
    """initdb and postgres refuse to run as root: then run them as ``postgres`` (Debian's) or ``nobody``."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresUnavailable("running as root and neither a 'postgres' nor a 'nobody' OS user exists")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Stops the cluster and deletes its directory if the test process dies without doing so (SIGKILL, a timeout).
_WATCHDOG = """
import os, shutil, subprocess, sys, time
parent, pg_ctl, data, root, user = sys.argv[1:6]
while True:
    try:
        os.kill(int(parent), 0)
    except ProcessLookupError:
        break
    time.sleep(1)
subprocess.run([pg_ctl, "-D", data, "-m", "immediate", "-w", "-t", "20", "stop"], user=user or None,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
shutil.rmtree(root, ignore_errors=True)
"""


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL cluster in a temp dir, listening on 127.0.0.1:``port`` only, trust auth, superuser
    ``postgres``. :meth:`stop` stops it and deletes the directory (idempotent)."""

    kind: Kind
    bin_dir: Path
    root: Path
    port: int
    os_user: str | None
    _watchdog: subprocess.Popen | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> URL:
        return URL.create("postgresql+psycopg2", username="postgres", host="127.0.0.1", port=self.port,
                          database="postgres")

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        # Output to a file, never a pipe: the postmaster would inherit the pipe and hold it open.
        with tempfile.TemporaryFile("w+") as out:
            done = subprocess.run(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args], user=self.os_user,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout,
                start_new_session=True,  # a Ctrl-C for pytest does not reach the server; we stop it
            )
            out.seek(0)
            done.stdout = out.read()
        return done

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._watchdog is not None:
            self._watchdog.terminate()
            self._watchdog.wait(10)
        pid = self.postmaster_pid()
        if pid is not None:
            try:
                done = self._pg_ctl("-m", "fast", "-w", "-t", "30", "stop", timeout=40)
                stopped = done.returncode == 0
            except subprocess.TimeoutExpired:
                stopped = False
            if not stopped:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


def start_throwaway_postgres(kind: Kind | None = None, os_user: str | None = None) -> ThrowawayPostgres:
    """Start a fresh cluster (``kind``: ``system`` or ``pgserver``; default: system if present, else pgserver).

    As root, initdb/postgres run as ``os_user`` (default: ``postgres``, else ``nobody``). The caller must
    :meth:`~ThrowawayPostgres.stop` it; a watchdog process does it should this process die first.
    """
    kinds: list[Kind] = [kind] if kind else ["system", "pgserver"]
    found = [(k, d) for k in kinds if (d := find_bin_dir(k)) is not None]
    if not found:
        raise PostgresUnavailable(
            f"no PostgreSQL binaries ({' or '.join(kinds)}): install Debian's postgresql package, or the "
            "pgserver wheel (`make install` does, on platforms it has a wheel for)"
        )
    chosen_kind, bin_dir = found[0]
    user = os_user or _os_user_for_postgres()
    base = "/tmp" if os.path.isdir("/tmp") else None  # short: the Unix socket path must fit 107 bytes
    root = Path(tempfile.mkdtemp(prefix="sle-pg-", dir=base))
    server = ThrowawayPostgres(chosen_kind, bin_dir, root, 0, user)
    try:
        (root / "data").mkdir()
        if user:
            import pwd

            entry = pwd.getpwnam(user)
            for path in (root, root / "data"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        with tempfile.TemporaryFile("w+") as out:
            init = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--no-locale", "--no-sync"],
                user=user, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=120,
            )
            out.seek(0)
            if init.returncode != 0:
                raise PostgresUnavailable(f"initdb ({bin_dir}) failed:\n{out.read()[-2000:]}")
        for _attempt in range(3):  # the free port may be taken between choosing and binding it
            server.port = _free_port()
            options = f"-h 127.0.0.1 -p {server.port} -k {root} -F -c max_connections=200"
            started = server._pg_ctl("-l", str(root / "server.log"), "-o", options, "-w", "-t", "60", "start",
                                     timeout=90)
            if started.returncode == 0:
                break
        else:
            log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start ({bin_dir}) failed:\n{started.stdout[-1000:]}\n{log[-2000:]}")
        server._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(bin_dir / "pg_ctl"), str(root / "data"),
             str(root), user or ""],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        check_server(server.url)
        return server
    except BaseException:
        server.stop()
        raise


# --- the server of this test session -------------------------------------------------------------------------


class SessionServer:
    """Resolves the test server once per process (see the module docstring) and exports its URL."""

    def __init__(self, default_url: str | URL = DEFAULT_SERVER_URL) -> None:
        self.default_url = make_url(default_url)
        self.started: ThrowawayPostgres | None = None
        self._error: PostgresUnavailable | None = None
        self._lock = threading.Lock()

    def url(self) -> URL:
        """The server URL; starts a throw-away cluster if nothing is named and the default does not answer."""
        with self._lock:
            if not os.environ.get(SERVER_URL_ENV):
                if self._error is not None:
                    raise self._error
                url = self.default_url
                try:
                    check_server(url)
                except PostgresUnavailable as unreachable:
                    try:
                        t0 = time.monotonic()
                        self.started = start_throwaway_postgres()
                    except PostgresUnavailable as exc:
                        self._error = PostgresUnavailable(f"{unreachable}; and no throw-away server: {exc}")
                        raise self._error from None
                    atexit.register(self.stop)
                    url = self.started.url
                    print(f"\n[pg] started a throw-away PostgreSQL ({self.started.kind}, {self.started.bin_dir}) "
                          f"on port {self.started.port} in {time.monotonic() - t0:.1f} s", file=sys.stderr)
                os.environ[SERVER_URL_ENV] = url.render_as_string(hide_password=False)
        return server_url()

    def stop(self) -> None:
        """Stop and delete the throw-away cluster, if this session started one (and un-export its URL)."""
        with self._lock:
            if self.started is None:
                return
            if os.environ.get(SERVER_URL_ENV) == self.started.url.render_as_string(hide_password=False):
                del os.environ[SERVER_URL_ENV]
            self.started.stop()
            self.started = None


SESSION = SessionServer()


def require_server() -> URL:
    """The server URL once it answers (found or started, see above); otherwise fail, or skip when
    SPARKLAYER_ERP_ALLOW_NO_PG=1."""
    import pytest

    try:
        url = SESSION.url()
        check_server(url)
    except PostgresUnavailable as exc:
        if no_pg_allowed():
            pytest.skip(f"{exc} ({ALLOW_NO_PG_ENV}=1)")
        pytest.fail(f"{exc}; set {SERVER_URL_ENV}, or {ALLOW_NO_PG_ENV}=1 to skip", pytrace=False)
    return url


def create_database(prefix: str = "sle_test", url: URL | None = None) -> URL:
    """Create an empty, uniquely named database; returns its URL (same server and credentials)."""
    url = url or server_url()
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}".lower()
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return url.set(database=name)


def drop_database(database_url: URL, url: URL | None = None) -> None:
    """Drop the database ``database_url`` names, disconnecting anyone still in it."""
    url = url or server_url()
    name = database_url.database
    if not name or name == url.database:
        raise ValueError("refusing to drop the admin database")
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


@contextmanager
def temporary_database(prefix: str = "sle_test", url: URL | None = None) -> Iterator[URL]:
    """``with temporary_database() as db_url:`` a fresh database, dropped afterwards."""
    db_url = create_database(prefix, url)
    try:
        yield db_url
    finally:
        drop_database(db_url, url)
