"""Connection strings: parse libpq conninfo or URLs, show them with the password masked,
and hand the password to child processes through the environment only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..errors import UsageError

MASK = "********"


@dataclass(frozen=True)
class Target:
    """A target database: its connection parameters without the password, and the
    password apart (None when it comes from PGPASSWORD, .pgpass or a service file)."""

    params: dict[str, str]
    password: str | None

    @property
    def conninfo(self) -> str:
        """Without the password: safe for argv and for printing."""
        return make_conninfo(**self.params) if self.params else ""

    @property
    def masked(self) -> str:
        if self.password is None:
            return self.conninfo
        return make_conninfo(**self.params, password=MASK)

    def child_env(self, base: dict[str, str]) -> dict[str, str]:
        env = dict(base)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def with_dbname(self, dbname: str) -> Target:
        return Target({**self.params, "dbname": dbname}, self.password)

    @property
    def host(self) -> str:
        return self.params.get("host", "")


def parse_target(text: str) -> Target:
    try:
        params = {k: str(v) for k, v in conninfo_to_dict(text).items() if v is not None}
    except Exception as e:  # psycopg.ProgrammingError and friends
        raise UsageError(f"invalid connection string: {mask_text(str(e), text)}") from None
    password = params.pop("password", None)
    return Target(params, password)


def mask_text(message: str, *secrets_from: str) -> str:
    """Remove any password that a message might echo back."""
    for source in secrets_from:
        try:
            pw = conninfo_to_dict(source).get("password")
        except Exception:  # unparsable: URL-style passwords are masked below
            pw = None
        if pw:
            message = message.replace(str(pw), MASK)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", rf"\1{MASK}@", message)
