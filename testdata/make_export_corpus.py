"""Regenerate testdata/export/: the archives the export, verify --types and query tests run on.

For PostgreSQL 18 and 15 this starts a throwaway cluster (pgenv.py), loads
export/export_corpus.sql into a UTF8 database ``exp`` and export/export_latin1.sql into a
LATIN1 one ``explatin``, and dumps them with that version's pg_dump:

* pg18: custom (gzip), custom -Z0, directory lz4, tar, the LATIN1 database, and a custom
  dump made with the session time zone Asia/Kolkata (timestamptz values with +05:30 and
  historic offsets with seconds);
* pg15: custom and the LATIN1 database.

pg_dump never writes COPY's octal (``\\101``), hex (``\\x41``) or redundant (``\\q``)
escapes, although COPY FROM reads them.  ``pg18/escapes.dump`` is therefore built by the
project's writer (src/pgarchive/format/writer.py): pg18/custom.dump with every table's
values re-escaped in those forms (same values once de-escaped, as pg_restore confirms in
the tests).  index.json lists every archive with the database and settings it came from.

Usage: python testdata/make_export_corpus.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "export"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import pgenv  # noqa: E402

DUMPS = {
    18: [("custom.dump", "exp", ["-Fc"], "UTC"),
         ("custom_z0.dump", "exp", ["-Fc", "-Z0"], "UTC"),
         ("dir_lz4", "exp", ["-Fd", "-Z", "lz4"], "UTC"),
         ("tar.tar", "exp", ["-Ft"], "UTC"),
         ("latin1.dump", "explatin", ["-Fc"], "UTC"),
         ("kolkata.dump", "exp", ["-Fc", "-Z", "zstd"], "Asia/Kolkata")],
    15: [("custom.dump", "exp", ["-Fc"], "UTC"),
         ("latin1.dump", "explatin", ["-Fc"], "UTC")],
}


def _plain(byte: int) -> bytes:
    """A byte as COPY TO writes it."""
    special = {0x5C: b"\\\\", 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t", 0x08: b"\\b",
               0x0C: b"\\f", 0x0B: b"\\v"}
    return special.get(byte, bytes([byte]))


def reescape(value: bytes) -> bytes:
    """A de-escaped value in COPY text again, cycling through the forms pg_dump never
    writes: 3-digit octal, 2-digit hex, shortest octal, 1-digit hex, redundant escapes.
    A multibyte character is escaped whole or not at all: COPY FROM checks the encoding
    of its raw input before it de-escapes."""
    out = bytearray()
    chars = value.decode("utf-8")
    for i, ch in enumerate(chars):
        raw = ch.encode("utf-8")
        nxt = chars[i + 1] if i + 1 < len(chars) else ""
        form = i % 6
        if len(raw) > 1:
            out += b"".join((b"\\%03o" if form % 2 else b"\\x%02x") % b for b in raw) \
                if form < 4 else raw
            continue
        byte = raw[0]
        if form == 0:
            out += b"\\%03o" % byte
        elif form == 1:
            out += b"\\x%02x" % byte
        elif form == 2 and (not nxt or nxt not in "01234567"):
            out += b"\\%o" % byte
        elif form == 3 and byte < 16 and (not nxt or nxt not in "0123456789abcdefABCDEF"):
            out += b"\\x%x" % byte
        elif form == 3 and ch in "acdeghijklmopqsuwyzACDEFGHIJKLMOPQRSTUVWXYZ":
            out += b"\\" + raw
        else:
            out += _plain(byte)
    return bytes(out)


def reescape_copy(data: bytes) -> bytes:
    from pgarchive.values import NULL, unescape

    lines = data.split(b"\n")
    end = lines.index(b"\\.")
    rows = []
    for line in lines[:end]:
        fields = line.split(b"\t")
        rows.append(b"\t".join(f if f == NULL else reescape(unescape(f)) for f in fields))
    return b"\n".join(rows + lines[end:])


def build_escapes(source: Path, target: Path) -> None:
    import pgarchive
    from pgarchive.format.writer import build_custom

    with pgarchive.open(str(source)) as a:
        data: dict[int, object] = {}
        for e in a.entries:
            if e.desc == "TABLE DATA" and e.has_data:
                data[e.dump_id] = reescape_copy(b"".join(a.data(e)))
            elif e.desc == "BLOBS" and e.has_data:
                data[e.dump_id] = list(a.read_large_objects(e))
        target.write_bytes(build_custom(a.header, a.entries, data))  # type: ignore[arg-type]


def main() -> None:
    if OUT.exists():
        for p in OUT.iterdir():
            if p.is_dir() and p.name.startswith("pg"):
                shutil.rmtree(p)
    index = []
    for major, dumps in DUMPS.items():
        folder = OUT / f"pg{major}"
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)  # the server's user writes nothing here, pg_dump (us) does
        with pgenv.cluster(major) as c:
            c.run(["createdb", "-T", "template0", "-E", "UTF8", "exp"])
            c.psql_file("exp", OUT / "export_corpus.sql")
            c.run(["createdb", "-T", "template0", "-E", "LATIN1", "--locale=C", "explatin"])
            c.psql_file("explatin", OUT / "export_latin1.sql")
            for name, db, args, tz in dumps:
                env = c.client_env()
                env["PGTZ"] = tz
                subprocess.run([c.tool("pg_dump"), *args, "-f", str(folder / name), db],
                               env=env, check=True)
                index.append({"archive": f"pg{major}/{name}", "major": major, "db": db,
                              "timezone": tz, "made_by": f"pg_dump {major} {' '.join(args)}"})
        if major == 18:
            build_escapes(folder / "custom.dump", folder / "escapes.dump")
            index.append({"archive": "pg18/escapes.dump", "major": 18, "db": "exp",
                          "timezone": "UTC", "made_by": "writer.py: pg18/custom.dump with "
                          "octal, hex and redundant escapes"})
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(index)} archives to {OUT}")


if __name__ == "__main__":
    main()
