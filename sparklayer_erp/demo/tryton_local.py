"""The local, embedded Tryton ERP: build it from nothing, cache the seeded database, run servers on copies.

Tryton lives in its own virtualenv (``.venv-tryton``) and is only ever talked to over JSON-RPC, so this
module uses the stdlib and httpx and never imports trytond. Three steps, each cached:

1. ``ensure_venv``             — the venv with the pinned tryton_requirements.txt (marker = requirements hash).
2. ``ensure_seeded_database``  — ``trytond-admin`` + ``tryton_seed.py`` once into
                                 ``<venv>/seed-cache/erp-<key>.sqlite``; key = hash of requirements,
                                 seed script, conventions, demo data and the calendar year (the seed's
                                 fiscal years are calendar years). A build artefact of the venv, like the
                                 venv itself: per-run data dirs (tests) do not trigger rebuilds.
3. ``start_server``            — copies the cached file (never serves the cache itself) and runs
                                 ``trytond`` on 127.0.0.1 on its own port, one server per DB file
                                 (never add DB files under a running server).

PostgreSQL instead of SQLite (``build --postgres URL``, ``serve --postgres URL``; the URL names the server and
the database, e.g. ``postgresql://tryton:pw@db:5432/erp``): the database is created when missing and
initialised + seeded in place once (the same two steps as above, no file cache); a database that already
holds the demo company is served as it is, so it keeps its orders. The Tryton venv's ``psycopg`` does the
PostgreSQL work; the server's config (with the password) is written 0600 in its own directory.

CLI: ``python -m sparklayer_erp.demo.tryton_local [build [--postgres URL] | serve [--port 8000]
[--postgres URL] | info]``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from sparklayer_erp.demo import demo_data
from sparklayer_erp.erp.tryton import conventions

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "tryton_requirements.txt"
SEED_SCRIPT = HERE / "tryton_seed.py"
CONVENTIONS_FILE = HERE.parent / "erp" / "tryton" / "conventions.py"
DEMO_DATA_FILE = Path(demo_data.__file__).resolve()

# Modules activated by trytond-admin; their dependencies come with --activate-dependencies.
MODULES = (
    "sale", "sale_credit_limit", "sale_price_list", "account_invoice", "stock", "account_credit_limit",
    "product_price_list", "web_shop",
)
SESSION_TIMEOUT_S = 3600  # also the freshness window for the payment wizard
START_TIMEOUT_S = 90.0
_VENV_MARKER = ".sparklayer-requirements.sha256"


class LocalErpError(RuntimeError):
    """The local Tryton could not be built or started; the message says which step and where its log is."""


# --- locations -------------------------------------------------------------------------------------------

def repo_root() -> Path:
    """The checkout holding this package, or the working directory when installed as a package."""
    candidate = HERE.parents[1]
    return candidate if (candidate / "setup.py").exists() else Path.cwd()


def tryton_venv() -> Path:
    return Path(os.environ.get("ERP_TRYTON_VENV") or repo_root() / ".venv-tryton").resolve()


def data_dir() -> Path:
    """``<project data root>/tryton``; the root is $SPARKLAYER_ERP_DATA_DIR or ``<repo>/.data``."""
    root = os.environ.get("SPARKLAYER_ERP_DATA_DIR") or repo_root() / ".data"
    return Path(root).resolve() / "tryton"


def cache_dir() -> Path:
    """Seeded-database cache: $ERP_TRYTON_CACHE_DIR, default inside the venv (deleting the venv clears it)."""
    return Path(os.environ.get("ERP_TRYTON_CACHE_DIR") or tryton_venv() / "seed-cache").resolve()


def demo_db_dir() -> Path:
    """The persistent working copy used by ``serve``: survives restarts, so the demo keeps its orders."""
    return data_dir() / "demo"


def integration_password() -> str:
    return os.environ.get(conventions.PASSWORD_ENV) or conventions.DEFAULT_INTEGRATION_PASSWORD


def operator_password() -> str:
    return os.environ.get(conventions.OPERATOR_PASSWORD_ENV) or conventions.DEFAULT_OPERATOR_PASSWORD


# --- locking ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive fcntl lock: two test sessions building the venv or cache at once wait for each other."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _run(cmd: list[str], log: Path, env: dict[str, str] | None = None, step: str = "") -> None:
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise LocalErpError(f"{step or cmd[0]} failed (exit {proc.returncode}); log {log}:\n{tail}")


# --- 1. the venv ------------------------------------------------------------------------------------------

def _venv_bin(name: str) -> Path:
    return tryton_venv() / "bin" / name


def ensure_venv() -> Path:
    """Create ``.venv-tryton`` with the pinned requirements unless it already matches them; returns it."""
    venv = tryton_venv()
    wanted = _sha256(REQUIREMENTS.read_bytes())
    marker = venv / _VENV_MARKER

    def ready() -> bool:
        return marker.exists() and marker.read_text().strip() == wanted and _venv_bin("trytond").exists()

    if ready():
        return venv
    # the lock lives outside the venv (which may be deleted) and outside the checkout (no stray files)
    lock = Path(tempfile.gettempdir()) / f"sparklayer-erp-venv-{_sha256(str(venv).encode())[:12]}.lock"
    with _file_lock(lock):
        if ready():
            return venv
        if marker.exists():  # ours but stale: rebuild from scratch so removed pins do not linger
            shutil.rmtree(venv)
        venv.mkdir(parents=True, exist_ok=True)  # a venv we did not create is installed into, never deleted
        log = venv / "sparklayer-build.log"
        log.write_text("")
        if not _venv_bin("python").exists():
            python = os.environ.get("ERP_TRYTON_PYTHON") or sys.executable
            _run([python, "-m", "venv", str(venv)], log, step="python -m venv")
        _run([str(_venv_bin("python")), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              "-r", str(REQUIREMENTS)], log, step="pip install -r tryton_requirements.txt")
        marker.write_text(wanted + "\n")
    return venv


# --- 2. the seeded database -------------------------------------------------------------------------------

def demo_payload() -> dict:
    """The demo data + conventions as plain JSON for tryton_seed.py (the Tryton venv never imports us)."""
    def plain(value):
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    conv = {k: plain(v) for k, v in vars(conventions).items() if k.isupper()}
    return {
        "currency": demo_data.CURRENCY,
        "currencies": [  # the ERP's other currencies, each with its rate per company-currency unit
            {"code": cur.code, "name": cur.name, "symbol": cur.symbol, "rate": str(cur.rate),
             "rate_from": cur.rate_from}
            for cur in getattr(demo_data, "FOREIGN_CURRENCIES", ())],
        "vat_rate": str(demo_data.VAT_RATE),
        "conventions": conv,
        "warehouses": [list(w) for w in demo_data.WAREHOUSES],
        "levels": [
            {"code": lv.code, "name": lv.name, "factor": str(lv.factor),
             "volume_break_units": lv.volume_break_units, "volume_factor": str(lv.volume_factor),
             "currency": getattr(lv, "currency", demo_data.CURRENCY)}
            for lv in demo_data.PRICE_LEVELS],
        "products": [
            {"sku": p.sku, "name": p.name, "list_price": str(p.list_price), "pack_size": p.pack_size,
             "stock": dict(p.stock)}
            for p in demo_data.PRODUCTS],
        "customers": [
            {"account_code": c.account_code, "name": c.name, "email": c.email,
             "payment_terms": c.payment_terms,
             "credit_limit": None if c.credit_limit is None else str(c.credit_limit),
             "price_level": c.price_level, "on_credit_hold": c.on_credit_hold, "city": c.city,
             "contract_prices": {sku: str(price) for sku, price in c.contract_prices.items()},
             "contract_list": demo_data.contract_list_code(c.account_code) if c.contract_prices else None,
             "currency": getattr(c, "currency", demo_data.CURRENCY)}
            for c in demo_data.CUSTOMERS],
    }


def cache_key() -> str:
    return _sha256(REQUIREMENTS.read_bytes(), SEED_SCRIPT.read_bytes(), CONVENTIONS_FILE.read_bytes(),
                   DEMO_DATA_FILE.read_bytes(), str(time.localtime().tm_year).encode())[:16]


def cached_database_path() -> Path:
    return cache_dir() / f"erp-{cache_key()}.sqlite"


def write_config(db_dir: Path, port: int | None = None, uri: str = "sqlite://") -> Path:
    """trytond.conf for an SQLite database directory (database ``<name>`` = ``<db_dir>/<name>.sqlite``), or
    for a PostgreSQL server ``uri`` (then ``db_dir`` only holds the config, the log and the file store)."""
    lines = ["[database]", f"uri = {uri}", f"path = {db_dir}", "language = en", ""]
    if port is not None:
        lines += ["[web]", f"listen = 127.0.0.1:{port}", ""]
    lines += ["[session]", f"timeout = {SESSION_TIMEOUT_S}", ""]
    conf = db_dir / "trytond.conf"
    conf.touch(mode=0o600)  # a PostgreSQL uri may carry a password
    conf.chmod(0o600)
    conf.write_text("\n".join(lines))
    return conf


def _checkpoint(db_file: Path) -> None:
    """Fold any WAL back into the main file so a copy of the one file is complete."""
    with contextlib.closing(sqlite3.connect(db_file)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        side = db_file.with_name(db_file.name + suffix)
        if side.exists() and side.stat().st_size == 0:
            side.unlink()


@dataclasses.dataclass
class BuildTimings:
    db_init_s: float = 0.0
    seed_s: float = 0.0


LAST_BUILD = BuildTimings()  # filled when this process built the cache; for `build` and benchmarks


def _tryton_env(conf: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYTON")}
    env["TRYTOND_CONFIG"] = str(conf)
    env.update(extra)
    return env


def ensure_seeded_database() -> Path:
    """The cached, seeded SQLite file (built once per key; later calls return at once)."""
    target = cached_database_path()
    if target.exists():
        return target
    ensure_venv()
    with _file_lock(cache_dir() / "build.lock"):
        if target.exists():
            return target
        build = Path(tempfile.mkdtemp(prefix="build-", dir=cache_dir()))
        try:
            _build_database(build)
            db_file = build / f"{conventions.DB_NAME}.sqlite"
            _checkpoint(db_file)
            os.replace(db_file, target)
        finally:
            shutil.rmtree(build, ignore_errors=True)
        for stale in cache_dir().glob("erp-*.sqlite"):
            if stale != target:
                stale.unlink(missing_ok=True)
    return target


def _build_database(build: Path) -> None:
    conf = write_config(build)
    (build / f"{conventions.DB_NAME}.sqlite").touch()  # SQLite: the file must exist
    try:
        _init_and_seed(conf, conventions.DB_NAME, build / "build.log")
    except LocalErpError:
        keep = cache_dir() / "last-failed-build.log"
        shutil.copyfile(build / "build.log", keep)
        raise


def _init_and_seed(conf: Path, db_name: str, log: Path) -> None:
    """trytond-admin (modules) then tryton_seed.py (the demo company), on the database ``conf`` points at."""
    build = conf.parent
    passfile = build / "adminpass"
    passfile.write_text(conventions.DEFAULT_ADMIN_PASSWORD)
    passfile.chmod(0o600)
    payload = build / "demo.json"
    payload.write_text(json.dumps(demo_payload()))
    try:
        started = time.monotonic()
        _run([str(_venv_bin("trytond-admin")), "-c", str(conf), "-d", db_name, "--all",
              "--email", conventions.ADMIN_EMAIL, "-u", *MODULES, "--activate-dependencies"],
             log, env=_tryton_env(conf, TRYTONPASSFILE=str(passfile)), step="trytond-admin")
    finally:
        passfile.unlink(missing_ok=True)
    LAST_BUILD.db_init_s = time.monotonic() - started
    started = time.monotonic()
    # the cache always holds the demo default passwords; working copies get $ERP_PASSWORD applied
    _run([str(_venv_bin("python")), str(SEED_SCRIPT), "seed", db_name, str(payload)],
         log, env=_tryton_env(conf), step="tryton_seed.py")
    LAST_BUILD.seed_s = time.monotonic() - started


def _password_env(conf: Path) -> dict[str, str]:
    env = _tryton_env(conf)
    if os.environ.get(conventions.PASSWORD_ENV):
        env["SPARKLAYER_TRYTON_INTEGRATION_PASSWORD"] = os.environ[conventions.PASSWORD_ENV]
    if os.environ.get(conventions.OPERATOR_PASSWORD_ENV):
        env["SPARKLAYER_TRYTON_OPERATOR_PASSWORD"] = os.environ[conventions.OPERATOR_PASSWORD_ENV]
    return env


def _apply_passwords(db_dir: Path, pg: PostgresDatabase | None = None) -> None:
    """Give the working copy the passwords from the environment (the cache holds the demo defaults)."""
    if (integration_password() == conventions.DEFAULT_INTEGRATION_PASSWORD
            and operator_password() == conventions.DEFAULT_OPERATOR_PASSWORD):
        return  # the seeded defaults already hold
    conf = write_config(db_dir) if pg is None else write_config(db_dir, uri=pg.server_uri)
    db_name = conventions.DB_NAME if pg is None else pg.database
    payload = db_dir / "conventions.json"
    payload.write_text(json.dumps({"conventions": demo_payload()["conventions"]}))
    _run([str(_venv_bin("python")), str(SEED_SCRIPT), "set-passwords", db_name, str(payload)],
         db_dir / "trytond.log", env=_password_env(conf), step="tryton_seed.py set-passwords")
    if pg is None:
        _checkpoint(db_dir / f"{conventions.DB_NAME}.sqlite")


# --- 2b. the seeded database on PostgreSQL ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class PostgresDatabase:
    """A Tryton database on PostgreSQL: ``server_uri`` is trytond's ``[database] uri`` (no database name)."""

    server_uri: str = dataclasses.field(repr=False)  # may carry the password
    database: str
    safe_url: str  # for messages: the password masked

    @classmethod
    def parse(cls, url: str) -> PostgresDatabase:
        """``postgresql://user[:pw]@host[:port]/database`` (``postgres://`` and ``postgresql+driver://`` too)."""
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0]
        database = parts.path.lstrip("/")
        if scheme not in ("postgresql", "postgres") or not parts.hostname or not database or "/" in database:
            raise LocalErpError("--postgres takes postgresql://user[:password]@host[:port]/database")
        netloc = parts.netloc
        userinfo, _, hostport = netloc.rpartition("@")
        safe = f"{userinfo.partition(':')[0]}:***@{hostport}" if ":" in userinfo else netloc
        return cls(server_uri=f"postgresql://{netloc}/", database=database,
                   safe_url=f"postgresql://{safe}/{database}")


# Runs in the Tryton venv (psycopg 3): create the database if missing, then say whether it is empty, holds
# the seeded demo (the operator user is the seed's last creation) or something else.
_PG_PREPARE = """
import os, sys, psycopg
from psycopg import sql
server, name = os.environ["SPARKLAYER_PG_SERVER"], os.environ["SPARKLAYER_PG_DATABASE"]
with psycopg.connect(server + "postgres", autocommit=True, connect_timeout=10) as conn:
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
with psycopg.connect(server + name, connect_timeout=10) as conn:
    tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    seeded = tables and conn.execute("SELECT to_regclass('public.res_user') IS NOT NULL").fetchone()[0] and \\
        conn.execute("SELECT count(*) FROM res_user WHERE login = %s", (sys.argv[1],)).fetchone()[0]
print("seeded" if seeded else "other" if tables else "empty")
"""


def ensure_postgres_database(url: str, work_dir: Path) -> tuple[PostgresDatabase, bool]:
    """Create the database if missing and build the demo company in it unless it is already there.

    Returns the database and whether this call built it. ``work_dir`` receives the config and ``build.log``.
    A database holding anything else (a failed build, another application) is refused, never touched.
    """
    pg = PostgresDatabase.parse(url)
    ensure_venv()
    work_dir.mkdir(parents=True, exist_ok=True)
    log = work_dir / "build.log"
    lock = Path(tempfile.gettempdir()) / f"sparklayer-erp-pg-{_sha256(pg.safe_url.encode())[:12]}.lock"
    with _file_lock(lock):
        with open(log, "ab") as out:
            proc = subprocess.run(
                [str(_venv_bin("python")), "-c", _PG_PREPARE, conventions.OPERATOR_LOGIN],
                stdout=subprocess.PIPE, stderr=out, check=False,
                env={**os.environ, "SPARKLAYER_PG_SERVER": pg.server_uri, "SPARKLAYER_PG_DATABASE": pg.database})
        state = proc.stdout.decode().strip()
        if proc.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:]
            raise LocalErpError(f"could not prepare {pg.safe_url} (exit {proc.returncode}); log {log}:\n{tail}")
        if state == "seeded":
            return pg, False
        if state != "empty":
            raise LocalErpError(f"{pg.safe_url} holds tables but not the seeded demo company (a failed build?): "
                                "drop it, or name another database")
        _init_and_seed(write_config(work_dir, uri=pg.server_uri), pg.database, log)
    return pg, True


# --- 3. the server -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    """Linux: SIGTERM the server if the process that started it dies, even by SIGKILL (no orphans)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclasses.dataclass
class TrytonServer:
    """A running local Tryton: ``url`` is the server root; JSON-RPC lives at ``{url}/{db_name}/rpc/``.

    On PostgreSQL ``db_path`` is the server's own directory (config, log, file store)."""

    url: str
    db_name: str
    port: int
    db_path: Path
    log_path: Path
    login: str = conventions.INTEGRATION_LOGIN
    postgres: str | None = None  # the PostgreSQL database (password masked); None: SQLite at db_path
    password: str = dataclasses.field(default="", repr=False)
    process: subprocess.Popen | None = dataclasses.field(default=None, repr=False)
    _lock_fh: object | None = dataclasses.field(default=None, repr=False)

    @property
    def rpc_url(self) -> str:
        return f"{self.url}/{self.db_name}/rpc/"

    def stop(self) -> None:
        """Terminate and reap the server; idempotent, also registered with atexit."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._lock_fh is not None:
            self._lock_fh.close()  # releases the flock on the persistent demo copy
            self._lock_fh = None
        atexit.unregister(self.stop)

    def __enter__(self) -> TrytonServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _prepare_working_copy(db_copy_dir: Path | None) -> tuple[Path, object | None]:
    """A DB directory for one server: a fresh copy under db_copy_dir, or the persistent demo copy."""
    cached = ensure_seeded_database()
    db_name = f"{conventions.DB_NAME}.sqlite"
    if db_copy_dir is not None:
        db_copy_dir.mkdir(parents=True, exist_ok=True)
        db_dir = Path(tempfile.mkdtemp(prefix="tryton-", dir=db_copy_dir))
        shutil.copyfile(cached, db_dir / db_name)
        _apply_passwords(db_dir)
        return db_dir, None
    db_dir = demo_db_dir()
    db_dir.mkdir(parents=True, exist_ok=True)
    lock_fh = open(db_dir / "server.lock", "a+")  # noqa: SIM115 - held for the server's lifetime
    try:
        fcntl.flock(lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_fh.close()
        raise LocalErpError(f"another local ERP server is already running on {db_dir}") from None
    key_file = db_dir / "seed-key"
    if not (db_dir / db_name).exists() or key_file.read_text().strip() != cache_key():
        # Seed changed: keep the old demo database aside, start afresh. Its WAL and shared-memory files go
        # with it: SQLite would otherwise replay the old WAL into the new file and corrupt it.
        for suffix in ("", "-wal", "-shm"):
            if (db_dir / f"{db_name}{suffix}").exists():
                os.replace(db_dir / f"{db_name}{suffix}", db_dir / f"{db_name}.old{suffix}")
        shutil.copyfile(cached, db_dir / db_name)
        key_file.write_text(cache_key() + "\n")
    _apply_passwords(db_dir)
    return db_dir, lock_fh


def start_server(port: int | None = None, db_copy_dir: Path | None = None,
                 postgres: str | None = None) -> TrytonServer:
    """Build if needed, copy the seeded DB, start ``trytond`` on 127.0.0.1 and wait until login works.

    With ``db_copy_dir`` every call serves a fresh copy (isolated tests); without it the persistent demo
    copy under the data dir is served (one server at a time). With ``postgres`` (a database URL) the server
    runs on that PostgreSQL database, built there first when empty; its config, log and file store go to a
    new directory under ``db_copy_dir`` (never shared with another server), or without it to
    ``<data dir>/postgres/<database>``.
    """
    ensure_venv()
    pg: PostgresDatabase | None = None
    if postgres is not None:
        pg = PostgresDatabase.parse(postgres)
        if db_copy_dir is not None:
            db_copy_dir.mkdir(parents=True, exist_ok=True)
            db_dir = Path(tempfile.mkdtemp(prefix="tryton-pg-", dir=db_copy_dir))
        else:  # `serve --postgres`: one lasting folder per database (its file store survives restarts)
            db_dir = data_dir() / "postgres" / pg.database
        lock_fh = None
        pg, _ = ensure_postgres_database(postgres, db_dir)
        _apply_passwords(db_dir, pg)
    else:
        db_dir, lock_fh = _prepare_working_copy(db_copy_dir)
    try:
        chosen = port or free_port()
        conf = write_config(db_dir, chosen) if pg is None else write_config(db_dir, chosen, uri=pg.server_uri)
        log_path = db_dir / "trytond.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [str(_venv_bin("trytond")), "-c", str(conf), "-d", conventions.DB_NAME if pg is None else pg.database],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_tryton_env(conf),
                start_new_session=True,
                preexec_fn=_die_with_parent if threading.current_thread() is threading.main_thread()
                else None)
    except BaseException:
        if lock_fh is not None:
            lock_fh.close()
        raise
    server = TrytonServer(url=f"http://127.0.0.1:{chosen}", db_name=conventions.DB_NAME if pg is None else pg.database,
                          port=chosen, db_path=db_dir / f"{conventions.DB_NAME}.sqlite" if pg is None else db_dir,
                          log_path=log_path, postgres=None if pg is None else pg.safe_url,
                          password=integration_password(), process=process, _lock_fh=lock_fh)
    atexit.register(server.stop)
    try:
        _wait_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: TrytonServer) -> None:
    """Poll ``common.server.version`` then log in as the integration user (proves the DB pool loaded)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(timeout=10) as client:
        while True:
            if server.process is None or server.process.poll() is not None:
                tail = server.log_path.read_text(errors="replace")[-2000:]
                raise LocalErpError(f"trytond exited during start-up; log {server.log_path}:\n{tail}")
            try:
                reply = client.post(f"{server.url}/rpc/",
                                    json={"id": 0, "method": "common.server.version", "params": []})
                if reply.status_code == 200 and "result" in reply.json():
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise LocalErpError(f"trytond did not answer within {START_TIMEOUT_S:.0f}s; log {server.log_path}")
            time.sleep(0.1)
        reply = client.post(server.rpc_url, json={
            "id": 1, "method": "common.db.login",
            "params": [server.login, {"password": server.password}, "en"]})
        if reply.status_code != 200 or "result" not in reply.json():
            # never echo the password; the status and the error kind are enough to act on
            raise LocalErpError(f"login as {server.login!r} failed (HTTP {reply.status_code})")


# --- CLI ---------------------------------------------------------------------------------------------------

def _cmd_build_postgres(url: str) -> None:
    started = time.monotonic()
    PostgresDatabase.parse(url)  # a wrong URL fails before anything is made
    work = Path(tempfile.mkdtemp(prefix="tryton-pg-build-"))
    pg, built = ensure_postgres_database(url, work)  # a failure keeps `work`: the error names its log
    shutil.rmtree(work, ignore_errors=True)
    waited = time.monotonic() - started
    detail = (f"built in {waited:.1f}s: init {LAST_BUILD.db_init_s:.1f}s, seed {LAST_BUILD.seed_s:.1f}s"
              if built else "already seeded")
    print(f"database  {pg.safe_url}  ({detail})")


def _cmd_build() -> None:
    started = time.monotonic()
    had_venv = (tryton_venv() / _VENV_MARKER).exists()
    ensure_venv()
    venv_s = time.monotonic() - started
    print(f"venv      {tryton_venv()}  ({'present' if had_venv else f'created in {venv_s:.1f}s'})")
    started = time.monotonic()
    had_db = cached_database_path().exists()
    path = ensure_seeded_database()
    waited = time.monotonic() - started
    if had_db:
        detail = "cached"
    elif LAST_BUILD.db_init_s:
        detail = f"built in {waited:.1f}s: init {LAST_BUILD.db_init_s:.1f}s, seed {LAST_BUILD.seed_s:.1f}s"
    else:
        detail = f"built by another process; waited {waited:.1f}s"
    print(f"database  {path}  ({detail})")


def _cmd_info() -> None:
    venv = tryton_venv()
    print(f"venv          {venv}  ({'ready' if (venv / _VENV_MARKER).exists() else 'not built'})")
    cached = cached_database_path()
    print(f"cached DB     {cached}  ({'ready' if cached.exists() else 'not built'})")
    demo = demo_db_dir() / f"{conventions.DB_NAME}.sqlite"
    print(f"demo DB       {demo}  ({'present' if demo.exists() else 'not created yet'})")
    print(f"database      {conventions.DB_NAME}")
    print(f"integration   {conventions.INTEGRATION_LOGIN}  (password from ${conventions.PASSWORD_ENV})")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _cmd_serve(port: int, postgres: str | None = None) -> None:
    # Ctrl-C and a plain `kill` both stop the server cleanly (a backgrounded shell job starts with SIGINT
    # ignored, and SIGTERM's default would skip the clean-up below).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    started = time.monotonic()
    server = start_server(port=port, postgres=postgres)
    password_hint = (f"${conventions.PASSWORD_ENV}" if os.environ.get(conventions.PASSWORD_ENV)
                     else conventions.DEFAULT_INTEGRATION_PASSWORD)
    print(f"Tryton ERP ready in {time.monotonic() - started:.1f}s", flush=True)
    print(f"  URL       {server.url}   (JSON-RPC: {server.rpc_url})")
    print(f"  database  {server.db_name}   " + (f"on {server.postgres}" if server.postgres else f"file {server.db_path}"))
    print(f"  login     {server.login} / {password_hint}")
    print(f"  log       {server.log_path}")
    print("Ctrl-C to stop.", flush=True)
    try:
        while server.process is not None and server.process.poll() is None:
            time.sleep(0.5)
        print(f"trytond exited; see {server.log_path}", file=sys.stderr)
    except KeyboardInterrupt:
        print("stopping ...", flush=True)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparklayer_erp.demo.tryton_local",
                                     description="Build and run the local Tryton ERP with the demo company.")
    sub = parser.add_subparsers(dest="command", required=True)
    pg_help = "PostgreSQL database URL (postgresql://user:pw@host:5432/name) instead of SQLite; created if missing"
    build = sub.add_parser("build", help="create the Tryton venv and the cached seeded database")
    build.add_argument("--postgres", metavar="URL", help=pg_help)
    serve = sub.add_parser("serve", help="build if needed and serve the demo database until Ctrl-C")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--postgres", metavar="URL", help=pg_help)
    sub.add_parser("info", help="where the venv and databases are")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            _cmd_build_postgres(args.postgres) if args.postgres else _cmd_build()
        elif args.command == "serve":
            _cmd_serve(args.port, args.postgres)
        else:
            _cmd_info()
    except LocalErpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
