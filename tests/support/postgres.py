"""A pytest plugin that runs a throwaway PostgreSQL server on 127.0.0.1 and hands out fresh databases."""

from __future__ import annotations

import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port

INSTALL_HINT = "install PostgreSQL to run these tests: `apt-get install postgresql`"
SERVER_USER = "postgres"  # the OS user the server runs as when the tests run as root
DATABASE_USER = "postgres"  # the superuser initdb creates; trusted on 127.0.0.1 only
START_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it
PG_TIMEOUT = 60  # seconds pg_ctl waits for the server to start or stop


class ServerUnavailable(Exception):
    """The PostgreSQL server could not be set up or started."""


@dataclass(frozen=True, slots=True)
class PostgresServer:
    """A running throwaway PostgreSQL cluster that trusts connections from 127.0.0.1."""

    host: str
    port: int
    user: str
    bindir: Path

    def url(self, database: str = "postgres") -> str:
        """Returns the SQLAlchemy URL of one database on this server."""
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Runs one SQL statement in the `postgres` maintenance database.

        Raises:
            ServerUnavailable: when psql reports an error.
        """
        command = [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        command += ["-h", self.host, "-p", str(self.port), "-U", self.user, "-d", "postgres", "-c", sql]
        _run(command, env={**_clean_env(), "PGCONNECT_TIMEOUT": "10"})

    def create_database(self, name: str) -> None:
        """Creates an empty database."""
        # Not STRATEGY FILE_COPY: its two checkpoints make it 3x slower than the WAL-logged default here.
        self.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")

    def drop_database(self, name: str) -> None:
        """Drops a database, disconnecting whatever is still connected to it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def servers_required() -> bool:
    """Tells whether a missing server must fail the tests (in CI) rather than skip them."""
    return os.environ.get("CI", "").lower() in ("true", "1") or os.environ.get("WSPOLNOTA_REQUIRE_SERVERS") == "1"


def find_bindir() -> Path | None:
    """Finds the folder with initdb and pg_ctl: `pg_config --bindir`, else the newest Debian install."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            found = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found:
            candidates.append(Path(found))
    versioned = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versioned, key=lambda path: _version_key(path.parent.name), reverse=True)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return bindir
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def _clean_env() -> dict[str, str]:
    # The developer's PGHOST, PGPORT, PGDATA, PGUSER... must not redirect the throwaway server.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _run(command: list[str], *, env: Mapping[str, str], cwd: Path | None = None, **as_user: Any) -> None:
    """Runs a PostgreSQL tool, raising ServerUnavailable with its output when it fails."""
    try:
        subprocess.run(
            command,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=True,
            timeout=PG_TIMEOUT + 30,
            **as_user,
        )
    except subprocess.CalledProcessError as err:
        raise ServerUnavailable(f"{' '.join(command)} failed:\n{err.stdout}{err.stderr}") from err
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ServerUnavailable(f"{' '.join(command)} failed: {err}") from err


def _log_tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


class Cluster:
    """A PostgreSQL data directory in a temp folder, and the server running on it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            # The server refuses to run as root; hand it to the `postgres` OS user.
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError as err:
                raise ServerUnavailable(
                    f"running as root but there is no {SERVER_USER!r} user to run the server"
                ) from err
            self.as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        self.root = Path(tempfile.mkdtemp(prefix="wspolnota-pg-"))
        if self.as_user:
            os.chown(self.root, self.as_user["user"], self.as_user["group"])
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.env = {**_clean_env(), "LC_ALL": "C"}

    def _tool(self, name: str, *args: str) -> None:
        _run([str(self.bindir / name), *args], env=self.env, cwd=self.root, **self.as_user)

    def init(self) -> None:
        """Creates the data directory: UTF-8, C collation, trust for 127.0.0.1 and the private socket only."""
        self._tool(
            "initdb", "--pgdata", str(self.data), "--username", DATABASE_USER,
            "--encoding", "UTF8", "--locale", "C", "--auth", "trust", "--no-sync",
        )  # fmt: skip
        # The socket lives in the 0700 temp folder, so only the server's OS user (and root) can reach it.
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8"
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            # Durability is pointless for a database thrown away after the run.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            # Not UTC, as on a server in Warsaw: stored instants must not depend on the session zone.
            "timezone": "'Europe/Warsaw'",
        }
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# wspolnota tests\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> int:
        """Starts the server on a free loopback port and returns the port once it accepts connections.

        Raises:
            ServerUnavailable: when no attempt starts it; the message ends with the server log.
        """
        for _attempt in range(START_ATTEMPTS):
            port = free_port()
            try:
                # -w waits until the server is ready to accept connections (or fails).
                self._tool(
                    "pg_ctl", "start", "--wait", "--timeout", str(PG_TIMEOUT), "--silent",
                    "--pgdata", str(self.data), "--log", str(self.log), "--options", f"-p {port}",
                )  # fmt: skip
            except ServerUnavailable as err:
                log = _log_tail(self.log)
                if "could not bind" in log or "could not create any TCP/IP sockets" in log:
                    continue
                raise ServerUnavailable(f"{err}\nserver log:\n{log}") from err
            return port
        raise ServerUnavailable(f"no free port after {START_ATTEMPTS} attempts\nserver log:\n{_log_tail(self.log)}")

    def stop(self) -> None:
        """Stops the server at once (nothing in it is kept) and removes the folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._tool("pg_ctl", "stop", "--wait", "--mode", "immediate", "--silent", "--pgdata", str(self.data))
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Starts a PostgreSQL server for the test session; skips without PostgreSQL, fails in CI."""
    bindir = find_bindir()
    if bindir is None:
        message = f"PostgreSQL server binaries (initdb, pg_ctl) not found; {INSTALL_HINT}"
        if servers_required():
            pytest.fail(f"{message} (CI=true or WSPOLNOTA_REQUIRE_SERVERS=1: these tests must run)", pytrace=False)
        pytest.skip(message)
    try:
        cluster = Cluster(bindir)
    except ServerUnavailable as err:
        pytest.fail(f"cannot set up PostgreSQL: {err}", pytrace=False)
    try:
        cluster.init()
        port = cluster.start()
    except ServerUnavailable as err:
        cluster.stop()
        pytest.fail(f"cannot start PostgreSQL from {bindir}: {err}", pytrace=False)
    try:
        yield PostgresServer(host="127.0.0.1", port=port, user=DATABASE_USER, bindir=bindir)
    finally:
        cluster.stop()


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """Creates a fresh database for one test and returns its SQLAlchemy URL; drops it afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")
    name = f"t{next(_databases):04d}_{slug}"[:63]
    postgres_server.create_database(name)
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)
