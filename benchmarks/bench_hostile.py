"""Peak memory and time of every command on the hostile inputs of issue 12 (item 10, 11, 12).

    python benchmarks/bench_hostile.py [--only NAME[,NAME]] [--timeout 600] [--scale 1.0]

Each input is built on first use into benchmarks/work/hostile/ (never committed) by a fast
packer of the archive format (the construct writer needs minutes for a million entries;
the tests build their smaller inputs with it).  Each command runs in a child process; the
table gives its exit status, peak resident memory (wait4's ru_maxrss) and wall time, and
the archive sizes, so that linear time shows as time per MB staying flat when --scale
changes.  Goal: every command under 200 MB on every input, in time linear in the input.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from common import WORK, pgarchive_cmd

ROOT = WORK / "hostile"
SMALL = Path(__file__).resolve().parent.parent / "testdata" / "pg18" / "custom.dump"


# --- a fast packer of archive 1.16 (intSize 4, offSize 8) -----------------------------------

def pint(v: int, size: int = 4) -> bytes:
    return bytes([1 if v < 0 else 0]) + abs(v).to_bytes(size, "little")


def pstr(s: bytes | None) -> bytes:
    return pint(-1) if s is None else pint(len(s)) + s


def header(count: int, fmt: int = 1, compression: int = 0, vmin: int = 16) -> bytes:
    """The header of a custom (fmt 1) or directory/tar (fmt 3) archive, then the count."""
    out = b"PGDMP" + bytes([1, vmin, 0, 4, 8, fmt])
    out += bytes([compression]) if vmin >= 15 else pint(-1 if compression else 0)
    out += b"".join(pint(v) for v in (0, 0, 12, 1, 0, 126, 0))
    out += pstr(b"db") + pstr(b"18.0") + pstr(b"18.0")
    return out + pint(count)


def entry(dump_id: int, desc: bytes, tag: bytes, *, defn: bytes | None = b"",
          had_dumper: bool = False, section: int = 2, namespace: bytes | None = b"public",
          copy: bytes | None = None, relkind: int = 0, deps: Iterable[int] = (),
          offset: tuple[int, int] | None = (3, 0), filename: bytes | None = None,
          dep_bytes: bytes | None = None) -> bytes:
    """One TOC entry; ``offset`` (flag, position) for custom, ``filename`` otherwise."""
    out = [pint(dump_id), pint(int(had_dumper)), pstr(b"0"), pstr(str(dump_id).encode()),
           pstr(tag), pstr(desc), pint(section), pstr(defn), pstr(b""), pstr(copy),
           pstr(namespace), pstr(b""), pstr(b""), pint(relkind), pstr(b"owner"),
           pstr(b"false")]
    out.append(dep_bytes if dep_bytes is not None
               else b"".join(pstr(str(d).encode()) for d in deps))
    out.append(pint(-1))
    if filename is not None:
        out.append(pstr(filename))
    else:
        assert offset is not None
        out.append(bytes([offset[0]]) + offset[1].to_bytes(8, "little"))
    return b"".join(out)


def data_block(dump_id: int, payload: Iterable[bytes]) -> bytes:
    """A DATA block: one chunk per payload piece, then the zero length."""
    return (bytes([1]) + pint(dump_id) + b"".join(pint(len(p)) + p for p in payload)
            + pint(0))


def write_custom(path: Path, entries: Sequence[Callable[[tuple[int, int]], bytes]],
                 blocks: Sequence[bytes | None]) -> None:
    """Entries are functions of their (flag, offset); blocks (or None) follow in order."""
    count = len(entries)
    head = header(count)
    probe = [e((3, 0)) for e in entries]
    pos = len(head) + sum(map(len, probe))
    parts = [head]
    for e, b in zip(entries, blocks, strict=True):
        if b is None:
            parts.append(e((3, 0)))
        else:
            parts.append(e((2, pos)))
            pos += len(b)
    with open(path, "wb") as f:
        f.write(b"".join(parts))
        for b in blocks:
            if b is not None:
                f.write(b)


# --- the attack inputs --------------------------------------------------------------------

def toc_1m(scale: float) -> Path:
    """A million small TOC entries (tables, each with a one-line definition)."""
    n = int(1_000_000 * scale)
    p = ROOT / f"toc_{n}.dump"
    if not p.exists():
        with open(p, "wb") as f:
            f.write(header(n))
            for i in range(1, n + 1):
                t = b"t%d" % i
                f.write(entry(i, b"TABLE", t, defn=b"CREATE TABLE public.%s (a integer);\n" % t,
                              deps=(i - 1,) if i > 1 else (), relkind=ord("r")))
    return p


def tag_100m(scale: float) -> Path:
    n = int(100_000_000 * scale)
    p = ROOT / f"tag_{n}.dump"
    if not p.exists():
        with open(p, "wb") as f:
            f.write(header(1) + entry(1, b"TABLE", b"x" * n, defn=b"CREATE TABLE x ();"))
    return p


def row_300m(scale: float) -> Path:
    """Uncompressed custom archive: one table whose only row is 300 MB (one chunk, as
    pg_dump writes a row)."""
    n = int(300_000_000 * scale)
    p = ROOT / f"row_{n}.dump"
    if not p.exists():
        row = b"x" * n + b"\n"
        blocks = [None, data_block(2, [row, b"\\.\n\n\n"])]
        write_custom(p, [lambda off: entry(1, b"TABLE", b"t", defn=b"CREATE TABLE t (a text);"),
                         lambda off: entry(2, b"TABLE DATA", b"t", defn=b"", had_dumper=True,
                                           section=3, copy=b"COPY public.t (a) FROM stdin;\n",
                                           deps=(1,), offset=off)], blocks)
    return p


def deps_one(scale: float) -> Path:
    """4.5 million dependency references, all on one selected table's index."""
    n = int(4_500_000 * scale)
    p = ROOT / f"deps_one_{n}.dump"
    if not p.exists():
        refs = b"".join(pstr(str(1 + i % 1000).encode()) for i in range(n))
        ents = [entry(i, b"TABLE", b"t%d" % i, defn=b"CREATE TABLE t ();")
                for i in range(1, 1001)]
        ents.append(entry(1001, b"INDEX", b"i", defn=b"CREATE INDEX i ON t1 (a);",
                          section=4, dep_bytes=refs))
        p.write_bytes(header(len(ents)) + b"".join(ents))
    return p


def deps_mesh(scale: float) -> Path:
    """4.5 million dependency references as foreign keys, each tying 300 tables."""
    tables = 300
    fks = int(15_000 * scale)
    p = ROOT / f"deps_mesh_{fks}.dump"
    if not p.exists():
        refs = b"".join(pstr(str(i).encode()) for i in range(1, tables + 1))
        ents = [entry(i, b"TABLE", b"t%d" % i, defn=b"CREATE TABLE t ();")
                for i in range(1, tables + 1)]
        ents += [entry(tables + j, b"FK CONSTRAINT", b"t1 fk%d" % j, defn=b"ALTER TABLE x;",
                       section=4, dep_bytes=refs) for j in range(1, fks + 1)]
        p.write_bytes(header(len(ents)) + b"".join(ents))
    return p


def list_200m(scale: float) -> Path:
    n = int(200_000_000 * scale)
    p = ROOT / f"list_{n}.list"
    if not p.exists():
        line = b"3392; 2615 16390 SCHEMA - app alice\n"
        p.write_bytes(line * (n // len(line)))
    return p


def filter_200m(scale: float) -> Path:
    n = int(200_000_000 * scale)
    p = ROOT / f"filter_{n}.txt"
    if not p.exists():
        with open(p, "wb") as f:
            size = 0
            i = 0
            while size < n:
                line = b"include table t%d\n" % i
                f.write(line)
                size += len(line)
                i += 1
    return p


def manifest_240m(scale: float) -> Path:
    n = int(240_000_000 * scale)
    p = ROOT / f"manifest_{n}.json"
    if not p.exists():
        one = {"desc": "TABLE DATA", "namespace": "public", "tag": "t", "rows": 1,
               "raw_bytes": 10, "stored_bytes": 10, "large_objects": None,
               "checksum": "0" * 32}
        per = len(json.dumps({"1000000": one}, indent=2))
        k = n // per
        with open(p, "w") as f:
            f.write('{"pgarchive_manifest": 1, "hash": "xxh3_128", "entries": {')
            f.write(",".join(f'"{i}": ' + json.dumps(one) for i in range(k)))
            f.write('}, "toc": {}}')
    return p


def zstd_bomb(scale: float) -> Path:
    """A custom zstd archive of 4.2 MB whose table data inflates to 128 GiB: a frame of
    RLE blocks (4 bytes each, 128 KiB of output)."""
    blocks = int((1 << 20) * scale)
    p = ROOT / f"zstd_bomb_{blocks}.dump"
    if not p.exists():
        frame = struct.pack("<I", 0xFD2FB528) + bytes([0x00, 0x58])  # window 128 KiB+
        rle = ((128 << 10) << 3 | 1 << 1).to_bytes(3, "little") + b"a"
        last = ((128 << 10) << 3 | 1 << 1 | 1).to_bytes(3, "little") + b"a"
        stream = frame + rle * (blocks - 1) + last
        chunks = [stream[i:i + (1 << 16)] for i in range(0, len(stream), 1 << 16)]
        hdr = header(2, compression=3)
        ents = [lambda off: entry(1, b"TABLE", b"t", defn=b"CREATE TABLE t (a text);"),
                lambda off: entry(2, b"TABLE DATA", b"t", defn=b"", had_dumper=True,
                                  section=3, copy=b"COPY public.t (a) FROM stdin;\n",
                                  deps=(1,), offset=off)]
        body = [e((3, 0)) for e in ents]
        block = data_block(2, chunks)
        pos = len(hdr) + sum(map(len, body))
        p.write_bytes(hdr + ents[0]((3, 0)) + ents[1]((2, pos)) + block)
    return p


def blobs_toc(scale: float) -> Path:
    """A directory archive (1.15: one blobs.toc) whose blobs.toc has 8 MB of lines, every
    one naming the same small file."""
    n = int(8_000_000 * scale)
    d = ROOT / f"blobs_toc_{n}"
    if not d.exists():
        tmp = d.with_name(d.name + ".partial")
        tmp.mkdir(parents=True, exist_ok=True)
        ents = entry(1, b"BLOBS", b"BLOBS", defn=b"", had_dumper=True, section=3,
                     filename=b"blobs.toc")
        (tmp / "toc.dat").write_bytes(header(1, fmt=3, vmin=15) + ents)
        (tmp / "blob_1.dat").write_bytes(b"hello")
        with open(tmp / "blobs.toc", "wb") as f:
            size, oid = 0, 1
            while size < n:
                line = b"%d blob_1.dat\n" % oid
                f.write(line)
                size += len(line)
                oid += 1
        tmp.rename(d)
    return d


def redos(scale: float) -> Path:
    """Tables with 3000-character names, for patterns that backtrack."""
    p = ROOT / "redos.dump"
    if not p.exists():
        names = [b"a_" * 1500, b"a" * 3000, b"x_" * 1499 + b"arch"]
        ents = [entry(i, b"TABLE", t, defn=b"CREATE TABLE t ();")
                for i, t in enumerate(names, 1)]
        p.write_bytes(header(len(ents)) + b"".join(ents))
    return p


def big_manifest_cmd(scale: float) -> list[str]:
    return ["verify", str(SMALL), "--manifest", str(manifest_240m(scale))]


CASES: dict[str, list[Callable[[float], list[str]]]] = {
    "blobs_toc": [lambda s: ["verify", str(blobs_toc(s))], lambda s: ["ls", str(blobs_toc(s))],
                  lambda s: ["info", str(blobs_toc(s))]],
    "toc_1m": [lambda s, f=f: ([*f, str(toc_1m(s))]) for f in
               (["info"], ["ls"], ["ls", "-F", "list"], ["ls", "-F", "json"],
                ["ls", "-F", "csv"], ["ls", "-t", "t1"],
                ["ls", "-F", "list", "-t", "t1", "--with-deps"])],
    "tag_100m": [lambda s: ["ls", str(tag_100m(s))], lambda s: ["info", str(tag_100m(s))],
                 lambda s: ["ls", "-F", "list", str(tag_100m(s))]],
    "row_300m": [lambda s: ["verify", str(row_300m(s))]],
    "deps_one": [lambda s: ["ls", "-F", "list", "-t", "t1", "--with-deps", str(deps_one(s))]],
    "deps_mesh": [lambda s: ["ls", "-F", "list", "-t", "t*", "--with-deps",
                             str(deps_mesh(s))]],
    "list_200m": [lambda s: ["ls", "-F", "list", "-L", str(list_200m(s)), str(SMALL)]],
    "filter_200m": [lambda s: ["ls", "-F", "list", "--filter", str(filter_200m(s)),
                               str(SMALL)]],
    "manifest_240m": [big_manifest_cmd],
    "zstd_bomb": [lambda s: ["verify", str(zstd_bomb(s))]],
    "redos": [lambda s: ["ls", "-t", "*_*_*_arch", str(redos(s))],
              lambda s: ["ls", "-t", "*a*a*a*b", str(redos(s))]],
}


def run(argv: list[str], timeout: float) -> tuple[int | str, float, float]:
    """(exit status or 'timeout', peak RSS MiB, seconds) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            return "timeout", usage.ru_maxrss / 1024, time.perf_counter() - start
        time.sleep(0.02)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        last = err.strip().splitlines()[-1:] or [""]
        print(f"      {last[0][:150]}")
    return code, usage.ru_maxrss / 1024, wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--build", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    ROOT.mkdir(parents=True, exist_ok=True)
    if opts.build:  # in a child: a forked child's peak RSS starts at its parent's
        for make in CASES[opts.build]:
            make(opts.scale)
        return
    names = [n for n in opts.only.split(",") if n] or list(CASES)
    print(f"{'input':14s} {'command':58s} {'exit':>7s} {'peak MiB':>9s} {'seconds':>8s}")
    worst = 0.0
    for name in names:
        subprocess.run([sys.executable, __file__, "--build", name, "--scale", str(opts.scale)],
                       check=True)
        for make in CASES[name]:
            argv = make(opts.scale)
            code, peak, wall = run(pgarchive_cmd(*argv), opts.timeout)
            shown = " ".join(a if "/" not in a else Path(a).name for a in argv)
            print(f"{name:14s} {shown[:58]:58s} {code!s:>7s} {peak:9.1f} {wall:8.2f}")
            sys.stdout.flush()
            worst = max(worst, peak)
    print(f"largest peak: {worst:.1f} MiB (goal < 200 MB): "
          f"{'OK' if worst * 1.048576 < 200 else 'MISSED'}")


if __name__ == "__main__":
    main()
