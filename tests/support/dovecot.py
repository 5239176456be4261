"""A pytest plugin that runs a throwaway Dovecot IMAP server on 127.0.0.1 with one user and a Maildir."""

from __future__ import annotations

import contextlib
import grp
import itertools
import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from string import Template

import pytest

from tests.support.ports import free_port
from tests.support.postgres import servers_required

INSTALL_HINT = "apt-get install dovecot-imapd"
SBIN_PATH = "/usr/sbin:/usr/local/sbin"  # where Debian puts dovecot; often not on a normal user's PATH
HOST = "127.0.0.1"
USER = "wspolnota@warszawa.test"
PASSWORD = "imap-test-password"
START_ATTEMPTS = 3  # a free port can be taken between choosing it and Dovecot binding it
START_TIMEOUT = 10.0  # seconds until Dovecot must greet on its port
STOP_TIMEOUT = 10.0  # seconds until every Dovecot process must be gone; then SIGKILL
POLL_INTERVAL = 0.005  # seconds between readiness checks while Dovecot starts

# Everything Dovecot reads; nothing comes from /etc/dovecot. Services that chroot by default are told not
# to, so the same file works when the tests run as an ordinary user (chroot needs root).
CONFIG = Template("""\
# Written by tests/dovecot.py for one test; removed with its folder.
base_dir = $root/run
state_dir = $root/state
log_path = $root/dovecot.log
info_log_path = $root/dovecot.log
protocols = imap
listen = $host
$ssl
disable_plaintext_auth = no
auth_mechanisms = plain login
# A real server makes a wrong password wait 2 s; the tests need not.
auth_failure_delay = 0
login_greeting = $greeting
default_internal_user = $internal_user
default_internal_group = $internal_group
default_login_user = $login_user
passdb {
  driver = passwd-file
  args = $root/passwd
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$root/home/%u
}
mail_location = maildir:~/Maildir
service anvil {
  chroot =
}
service ipc {
  chroot =
}
service old-stats {
  chroot =
}
service imap-login {
  chroot =
  inet_listener imap {
    address = $host
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
""")


class ServerUnavailable(Exception):
    """The Dovecot server could not be set up or started."""


def find_dovecot() -> str | None:
    """Return the path of the dovecot binary, looking in the sbin folders too."""
    return shutil.which("dovecot") or shutil.which("dovecot", path=SBIN_PATH)


def require_dovecot() -> str:
    """Return the dovecot binary; skip the test without it, or fail it when servers are required (CI)."""
    binary = find_dovecot()
    if binary is None:
        message = f"Dovecot not found; {INSTALL_HINT}"
        if servers_required():
            pytest.fail(f"{message} (CI=true or WSPOLNOTA_REQUIRE_SERVERS=1: these tests must run)", pytrace=False)
        pytest.skip(INSTALL_HINT)
    return binary


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _live_members(group: int, leader: int) -> list[int]:
    """List the processes of a process group other than its leader, leaving out zombies."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == leader:
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")".
        state, _ppid, pgrp = stat.rpartition(")")[2].split()[:3]
        if int(pgrp) == group and state != "Z":
            members.append(int(entry.name))
    return members


def _wait_for_any_exit(pids: list[int], timeout: float) -> None:
    """Block until one of the processes ends or the timeout passes."""
    descriptors = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            descriptors.append(os.pidfd_open(pid))
    try:
        if descriptors:
            select.select(descriptors, [], [], timeout)
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


_names = itertools.count(1)


def _delivery_order(name: str) -> tuple[int, int, str]:
    # Dovecot and append() both name files "<seconds>.M<microseconds>P<pid>...", so this is arrival order.
    found = re.match(r"(\d+)\.M(\d+)P", name) or re.match(r"(\d+)()", name)
    if found is None:
        return (0, 0, name)
    return (int(found[1]), int(found[2] or 0), name)


def _crlf(raw: bytes) -> bytes:
    return re.sub(rb"(?<!\r)\n", b"\r\n", raw)


class DovecotServer:
    """A Dovecot IMAP server in a temp folder: one user, one Maildir, plain LOGIN on 127.0.0.1."""

    def __init__(self, binary: str) -> None:
        if os.geteuid() == 0:
            # Dovecot runs its pieces unprivileged: logins as dovenull, internals as dovecot (both made by the
            # Debian package), and the mail itself as nobody, which must own the Maildir.
            try:
                self._internal = (pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull"))
                mail = pwd.getpwnam("nobody")
            except KeyError as err:
                raise ServerUnavailable(f"running as root but a system user is missing: {err}") from err
        else:
            mail = pwd.getpwuid(os.geteuid())
            self._internal = (mail, mail)
        self.mail_uid, self.mail_gid = mail.pw_uid, mail.pw_gid
        self.binary = binary
        self.host = HOST
        self.port = 0
        self.user = USER
        self.password = PASSWORD
        self.root = Path(tempfile.mkdtemp(prefix="wspolnota-dovecot-"))
        self.maildir = self.root / "home" / USER / "Maildir"
        self.log = self.root / "dovecot.log"
        self._stderr = self.root / "dovecot.stderr"
        self._process: subprocess.Popen[bytes] | None = None
        self.tls_cert: Path | None = None  # set by enable_tls(): STARTTLS offered on the IMAP port
        self.tls_key: Path | None = None
        # The greeting names this folder, so the readiness check cannot mistake another server for ours.
        self._greeting = f"Dovecot for wspolnota tests ({self.root.name}) ready."
        try:
            # The mail user must get through the root folder to its home, nothing more.
            self.root.chmod(0o711)
            (self.root / "state").mkdir()
            (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
            self._make_maildir(self.maildir)
            self._own(self.maildir.parent)
        except OSError:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    # --- running ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start Dovecot on a free port and return once it greets.

        Raises:
            ServerUnavailable: when no attempt starts it; the message ends with Dovecot's log.
        """
        for _attempt in range(START_ATTEMPTS):
            self.port = free_port()
            try:
                self._launch()
            except ServerUnavailable:
                if "Address already in use" in _tail(self.log) + _tail(self._stderr):
                    continue
                raise
            return
        raise ServerUnavailable(f"no free port after {START_ATTEMPTS} attempts\n{self._logs()}")

    def restart(self) -> None:
        """Stop Dovecot, dropping every connection, and start it again on the same port and Maildir.

        Blocks for the few tens of milliseconds this takes, also when called from a coroutine.

        Raises:
            ServerUnavailable: when it does not come back.
        """
        self.stop()
        self._launch()

    def stop(self) -> None:
        """Stop every Dovecot process the way `systemctl stop` does: SIGTERM to all, then wait for them."""
        process, self._process = self._process, None
        if process is None:
            return
        # The master leads its own process group and its children (imap, imap-login, auth, log...) stay in
        # it. SIGTERM to the master alone would leave an imap process serving its client.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        # Once its children are gone the master only records itself in state/instances and sleeps a second
        # for its log process, which has ended too; so wait for the children, and kill the master.
        while (members := _live_members(process.pid, process.pid)) and time.monotonic() < deadline:
            _wait_for_any_exit(members, deadline - time.monotonic())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)

    def environment(self) -> dict[str, str]:
        """The service's WSPOLNOTA_IMAP_* settings for this server (plain IMAP on loopback)."""
        return {
            "WSPOLNOTA_IMAP_HOST": self.host,
            "WSPOLNOTA_IMAP_PORT": str(self.port),
            "WSPOLNOTA_IMAP_USER": self.user,
            "WSPOLNOTA_IMAP_PASSWORD": self.password,
            "WSPOLNOTA_IMAP_SECURITY": "plain",
        }

    def enable_tls(self) -> Path:
        """Offers STARTTLS with a fresh self-signed certificate for 127.0.0.1; returns the certificate (the CA)."""
        self.tls_cert, self.tls_key = self.root / "tls.crt", self.root / "tls.key"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                f"/CN={self.host}",
                "-addext",
                f"subjectAltName=IP:{self.host}",
                "-keyout",
                str(self.tls_key),
                "-out",
                str(self.tls_cert),
            ],
            check=True,
            capture_output=True,
        )
        self.tls_cert.chmod(0o644)
        return self.tls_cert

    def close(self) -> None:
        """Stop Dovecot and remove its folder."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _launch(self) -> None:
        self._write_config()
        # stop() kills the master in its last second, when it may be rewriting state/instances under this
        # dotlock; the lock then holds no PID, and a new master would wait 60 s for it to go stale.
        (self.root / "state" / "instances.lock").unlink(missing_ok=True)
        with self._stderr.open("ab") as stderr:
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # its own process group, so stop() can signal every Dovecot process
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._greets():
            try:
                code = self._process.wait(timeout=POLL_INTERVAL)
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerUnavailable(f"Dovecot did not greet within {START_TIMEOUT} s\n{self._logs()}") from None
                continue
            self._process = None
            raise ServerUnavailable(f"Dovecot exited with status {code}\n{self._logs()}")

    def _greets(self) -> bool:
        """Tell whether our Dovecot answers on the port with its greeting."""
        try:
            with (
                socket.create_connection((self.host, self.port), timeout=START_TIMEOUT) as connection,
                connection.makefile("rb") as reader,
            ):
                greeting = reader.readline()
        except OSError:
            return False
        return self._greeting.encode() in greeting

    def _write_config(self) -> None:
        internal, login = self._internal
        text = CONFIG.substitute(
            root=self.root,
            host=self.host,
            port=self.port,
            greeting=self._greeting,
            internal_user=internal.pw_name,
            internal_group=grp.getgrgid(internal.pw_gid).gr_name,
            login_user=login.pw_name,
            mail_uid=self.mail_uid,
            mail_gid=self.mail_gid,
            ssl=f"ssl = yes\nssl_cert = <{self.tls_cert}\nssl_key = <{self.tls_key}" if self.tls_cert else "ssl = no",
        )
        (self.root / "dovecot.conf").write_text(text, encoding="utf-8")

    def _logs(self) -> str:
        return f"dovecot output:\n{_tail(self._stderr)}\ndovecot log:\n{_tail(self.log)}"

    # --- the Maildir -----------------------------------------------------------------------------

    def append(self, raw: bytes, folder: str = "INBOX") -> Path:
        """Deliver a message the way an MTA does: write it to the folder's tmp/ and rename it into new/.

        Straight into the Maildir, not over IMAP, so it works while Dovecot is stopped; a client in IDLE
        hears of it within about half a second (Dovecot's inotify delay). The bytes are stored as given;
        IMAP clients get them with CRLF line ends. Return the file's path.
        """
        box = self._folder(folder)
        if not box.is_dir():
            self._make_maildir(box)
            (box / "maildirfolder").touch()
            self._own(box / "maildirfolder")
        now = time.time_ns() // 1000
        name = f"{now // 1_000_000}.M{now % 1_000_000}P{os.getpid()}Q{next(_names)}.wspolnota-tests"
        draft = box / "tmp" / name
        draft.write_bytes(raw)
        self._own(draft)
        delivered = box / "new" / name
        draft.rename(delivered)
        return delivered

    def folders(self) -> list[str]:
        """List the user's folders as IMAP names: INBOX first, then the rest sorted ("." separates levels)."""
        names = [
            entry.name[1:]
            for entry in self.maildir.iterdir()
            if entry.name.startswith(".") and entry.name not in (".", "..") and (entry / "cur").is_dir()
        ]
        return ["INBOX", *sorted(names)]

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """Return a folder's messages in arrival order with CRLF line ends, as IMAP clients get them.

        Dovecot stores what clients APPEND with bare LF; both kinds of file read back the same here.
        A folder that does not exist has no messages.
        """
        box = self._folder(folder)
        found: dict[str, str] = {}
        for part in ("new", "cur"):
            with contextlib.suppress(FileNotFoundError):
                for entry in os.scandir(box / part):
                    # Dovecot moves a file from new/ to cur/ adding ":2,<flags>", so one message can show up
                    # in both listings; the part before ":" is the message's name in either.
                    found[entry.name.partition(":")[0]] = part
        return [_crlf(self._read(box, name, found[name])) for name in sorted(found, key=_delivery_order)]

    @staticmethod
    def _read(box: Path, name: str, part: str) -> bytes:
        # Dovecot may move the file to cur/ or rename it there (a flag change) between listing and reading.
        for _attempt in range(3):
            paths = [box / "new" / name] if part == "new" else []
            paths += [Path(entry.path) for entry in os.scandir(box / "cur") if entry.name.partition(":")[0] == name]
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    return path.read_bytes()
            part = "cur"
        raise FileNotFoundError(f"message {name} vanished from {box}")

    def _folder(self, folder: str) -> Path:
        if folder.upper() == "INBOX":
            return self.maildir
        if not folder.isascii() or not folder.isprintable() or "/" in folder or folder.startswith(".") or "&" in folder:
            # Dovecot keeps other names in modified UTF-7 on disk; tests have not needed them yet.
            raise ValueError(f"folder {folder!r}: use printable ASCII without '/', '&' or a leading '.'")
        return self.maildir / f".{folder}"

    def _make_maildir(self, box: Path) -> None:
        for part in ("cur", "new", "tmp"):
            (box / part).mkdir(parents=True, exist_ok=True)
            self._own(box / part)
        self._own(box)

    def _own(self, path: Path) -> None:
        # As root the mail processes run as `nobody`, which must be able to move and flag these files.
        if os.geteuid() == 0:
            os.chown(path, self.mail_uid, self.mail_gid)


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """Start a fresh Dovecot for one test (about 50 ms); skip without Dovecot, fail in CI."""
    binary = require_dovecot()
    try:
        server = DovecotServer(binary)
    except (ServerUnavailable, OSError) as err:
        pytest.fail(f"cannot set up Dovecot: {err}", pytrace=False)
    try:
        server.start()
    except ServerUnavailable as err:
        server.close()
        pytest.fail(f"cannot start Dovecot from {binary}: {err}", pytrace=False)
    try:
        yield server
    finally:
        server.close()
