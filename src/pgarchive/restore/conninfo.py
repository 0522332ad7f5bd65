"""Connection strings: parse libpq conninfo or URLs, show them with every secret masked, and
hand the secrets to child processes without putting them on a command line.

libpq marks the parameters that carry a secret (``PQconninfoOption.dispchar == "*"``):
``password``, ``sslpassword`` and, from libpq 18, ``oauth_client_secret``.  Each is kept
apart from the other parameters.  A child gets ``password`` as ``PGPASSWORD``; the others,
which have no environment variable, in a temporary service file only its user can read.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    import psycopg

MASK = "********"
#: The parameters libpq documents as secret; more are taken from libpq itself when it is
#: loaded (see :func:`secret_params`).
SECRET_PARAMS = frozenset({"password", "sslpassword", "oauth_client_secret"})
SERVICE_NAME = "pgarchive"


def secret_params() -> frozenset[str]:
    """SECRET_PARAMS and every parameter the loaded libpq marks as secret."""
    from psycopg import pq

    try:
        marked = {o.keyword.decode() for o in pq.Conninfo.get_defaults() if o.dispchar == b"*"}
    except Exception:  # an odd libpq: the documented list still applies
        marked = set()
    return SECRET_PARAMS | marked


@dataclass(frozen=True)
class Target:
    """A target database: its connection parameters without the secrets, and the secrets
    apart (none when they come from PGPASSWORD, .pgpass or a service file)."""

    params: dict[str, str]
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def password(self) -> str | None:
        """The password given in the connection string, if any."""
        return self.secrets.get("password")

    @property
    def conninfo(self) -> str:
        """Without the secrets: safe for argv and for printing."""
        return _make(self.params)

    @property
    def masked(self) -> str:
        """The whole connection string with each secret shown as ********."""
        return _make({**self.params, **{k: MASK for k in self.secrets}})

    @property
    def host(self) -> str:
        """The host to connect to ('' for libpq's default, a Unix socket)."""
        return self.params.get("host", "")

    @property
    def dbname(self) -> str | None:
        """The database named in the connection string, if any."""
        return self.params.get("dbname")

    def with_dbname(self, dbname: str) -> Target:
        """The same server and credentials, another database."""
        return Target({**self.params, "dbname": dbname}, dict(self.secrets))

    def mask(self, message: str) -> str:
        """``message`` with every secret of this target (and any URL password) masked."""
        return mask_text(message, *self.secrets.values())

    def connect(self, timeout: int = 15, **extra: str) -> psycopg.Connection[Any]:
        """An autocommit psycopg connection (the secrets go to libpq, nowhere else);
        ``extra`` libpq parameters (fallback_application_name...) are added."""
        import psycopg

        return psycopg.connect(_make({**self.params, **self.secrets, **extra}),
                               connect_timeout=timeout, autocommit=True)

    @contextlib.contextmanager
    def for_child(self, base_env: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
        """(conninfo for the child's argv, its environment): the password in PGPASSWORD,
        other secrets in a temporary 0600 service file named by PGSERVICEFILE."""
        env = dict(base_env)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        others = {k: v for k, v in self.secrets.items() if k != "password"}
        if not others:
            yield self.conninfo, env
            return
        if "service" in self.params:
            raise UsageError(f"{', '.join(sorted(others))} cannot be passed to pg_restore "
                             "together with service=: put it in the service file instead")
        for key, value in others.items():
            if value != value.strip() or "\n" in value or "\r" in value:
                raise UsageError(f"{key} with leading or trailing blanks or a line break "
                                 "cannot be passed to pg_restore safely")
        with tempfile.TemporaryDirectory(prefix="pgarchive-") as folder:
            path = os.path.join(folder, "pg_service.conf")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(f"[{SERVICE_NAME}]\n")
                f.writelines(f"{k}={v}\n" for k, v in others.items())
            env["PGSERVICEFILE"] = path
            yield _make({**self.params, "service": SERVICE_NAME}), env


def _make(params: dict[str, str]) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(**params) if params else ""


def parse_target(text: str) -> Target:
    """Split a conninfo string or URL into parameters and secrets."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {k: str(v) for k, v in conninfo_to_dict(text).items() if v is not None}
    except Exception as e:  # psycopg.ProgrammingError and friends
        raise UsageError(f"invalid connection string: {mask_text(str(e), *_secrets_in(text))}"
                         ) from None
    secret = secret_params()
    secrets = {k: params.pop(k) for k in list(params) if k in secret}
    return Target(params, secrets)


def _secrets_in(text: str) -> list[str]:
    """Values after ``password=``-like keys in a string libpq could not parse."""
    keys = "|".join(sorted(SECRET_PARAMS))
    return [m.group(2) or m.group(3) for m in
            re.finditer(rf"\b({keys})\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))", text)]


def mask_text(message: str, *secrets: str) -> str:
    """``message`` with each of ``secrets`` and any password in a URL replaced by ********."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        message = message.replace(secret, MASK)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", rf"\1{MASK}@", message)
