"""The options of pg_restore 18 that change the script (beyond which entries it takes),
its refusals, and the restrict key it generates."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import UsageError
from ..selection import RestoreOptions

RESTRICT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
INT_MAX = 2**31 - 1
#: The majors --target-version knows (each rule tested on a real server of that major).
TARGETS = range(14, 19)


@dataclass(frozen=True)
class ScriptOptions:
    """pg_restore's script switches, with pg_restore's meaning (field = option)."""

    clean: bool = False                        # -c
    if_exists: bool = False                    # --if-exists
    no_owner: bool = False                     # -O
    role: str | None = None                    # --role
    superuser: str | None = None               # -S
    use_set_session_authorization: bool = False
    disable_triggers: bool = False
    enable_row_security: bool = False
    single_transaction: bool = False           # -1
    transaction_size: int = 0                  # --transaction-size (0: off)
    no_tablespaces: bool = False
    no_table_access_method: bool = False
    restrict_key: str | None = None            # None: a random one, as pg_restore makes
    target_version: int | None = None          # pgarchive's own: --target-version


def generate_restrict_key() -> str:
    """generate_restrict_key() of dumputils.c: 63 characters, each a strong random byte
    modulo 62 into the alphanumerics (the same, slightly uneven, distribution); the bytes
    of os.urandom, as secrets.token_bytes gives them, without importing secrets (hashlib,
    OpenSSL) at every start."""
    raw = os.urandom(64)
    return "".join(RESTRICT_CHARS[b % len(RESTRICT_CHARS)] for b in raw[:63])


def valid_restrict_key(key: str) -> bool:
    """valid_restrict_key(): non-empty and alphanumeric (ASCII) only."""
    return bool(key) and all(c in RESTRICT_CHARS for c in key)


def check(sel: RestoreOptions, opts: ScriptOptions) -> ScriptOptions:
    """Refuse what pg_restore 18 refuses, in its order and with its messages; returns the
    options with a restrict key filled in."""
    key = opts.restrict_key
    if key is None:
        key = generate_restrict_key()
    if not valid_restrict_key(key):
        raise UsageError("invalid restrict key")
    sel.validate()
    both = "options {} and {} cannot be used together"
    if sel.data_only and opts.clean:
        raise UsageError(both.format("-c/--clean", "-a/--data-only"))
    if opts.single_transaction and opts.transaction_size > 0:
        raise UsageError(both.format("-1/--single-transaction", "--transaction-size"))
    if sel.create and opts.single_transaction:
        raise UsageError(both.format("-C/--create", "-1/--single-transaction"))
    if opts.if_exists and not opts.clean:
        raise UsageError("option --if-exists requires option -c/--clean")
    if not 0 <= opts.transaction_size <= INT_MAX:
        raise UsageError(f"--transaction-size must be in range 1..{INT_MAX}")
    if opts.target_version is not None and opts.target_version not in TARGETS:
        raise UsageError(f"--target-version {opts.target_version} is not supported: "
                         f"pgarchive knows the rules for PostgreSQL "
                         f"{min(TARGETS)} to {max(TARGETS)}")
    if key != opts.restrict_key:
        from dataclasses import replace

        return replace(opts, restrict_key=key)
    return opts
