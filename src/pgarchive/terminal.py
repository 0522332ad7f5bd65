"""The one place that makes archive text safe to print on a terminal.

Names in an archive are whatever bytes its author chose: an ESC sequence, a carriage return
or a C1 control such as U+009B (CSI) in a tag could move the cursor, rewrite a line ("OK")
or change the terminal's state.  Everything meant for a terminal -- tables, info, error,
warning and damage lines -- goes through :func:`for_terminal`, which shows every control
character (C0, DEL, C1) and every undecodable byte as a visible escape.  Data formats keep
exact values: JSON escapes them its own way, CSV and list output keep the bytes (``--raw``
keeps them in tables too).
"""

from __future__ import annotations

import re

# C0, DEL, C1, and the surrogates that stand for undecodable bytes (surrogateescape)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\udc80-\udcff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code - 0xDC00 if code >= 0xDC80 else code:02x}"


def for_terminal(text: str) -> str:
    """``text`` with control characters and undecodable bytes shown as ``\\xNN``
    (``\\n``, ``\\r``, ``\\t`` for those three): one line, nothing a terminal acts on."""
    return _UNSAFE.sub(_escape, text)


def bytes_for_terminal(raw: bytes) -> str:
    """Bytes of unknown encoding (a list file line, say) for a terminal."""
    return for_terminal(raw.decode("utf-8", "surrogateescape"))
