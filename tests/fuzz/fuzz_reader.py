"""Coverage-guided fuzzing of the header, TOC and data readers with atheris.

    python tests/fuzz/fuzz_reader.py [TARGET] [atheris/libFuzzer flags]
    python tests/fuzz/fuzz_reader.py toc -max_total_time=3600 tests/fuzz/corpus_toc

TARGET is one of toc (header + TOC, pure), blocks (custom data blocks and decompression),
copy (COPY text checker), file (the whole reader and verify on a file), list (-L list
files, checked against a plain reference of pg_restore's rule), filter (--filter files),
manifest (manifest loading), pattern (psql patterns, checked against the regular
expression they stand for), or all (each input to every target but file).  Seed a corpus
folder with real archives (``cp testdata/pg18/*.dump tests/fuzz/corpus_toc/``).  Anything
but an ArchiveError is a crash: add the input as a regression test in
tests/test_fuzz_regressions.py.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    from pgarchive.compression import decompress
    from pgarchive.copytext import CopyChecker
    from pgarchive.errors import ArchiveError
    from pgarchive.format.blocks import BlockReader
    from pgarchive.format.constants import Compression
    from pgarchive.format.toc import parse_header, parse_toc
    from pgarchive.listfile import parse_list_chunks
    from pgarchive.manifest import load_manifest
    from pgarchive.patterns import compile_pattern, parse_filter_file
    from pgarchive.terminal import for_terminal

import re

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from psql_regex import reference_regex

TMP = tempfile.mkdtemp(prefix="pgarchive-fuzz-", dir="/dev/shm" if os.path.isdir(
    "/dev/shm") else None)


def target_toc(data: bytes) -> None:
    try:
        h = parse_header(data)
        parse_toc(data, h, "offset" if data[10:11] == b"\x01" else "filename")
    except ArchiveError:
        pass


def target_blocks(data: bytes) -> None:
    if len(data) < 2:
        return
    algo = Compression(data[0] % 4)
    r = BlockReader(data, 4, 0x011000, len(data))
    try:
        pos = 1
        while pos < len(data):
            hdr = r.header(pos)
            if hdr.type == 1:
                for _ in decompress(algo, r.chunks(hdr.body), out_size=1 << 16):
                    pass
            pos = r.skip_block(hdr)
    except ArchiveError:
        pass


def target_copy(data: bytes) -> None:
    c = CopyChecker(data[0] % 6 + 1 if data else None)
    for i in range(1, len(data), 7):
        c.feed(data[i:i + 7])
    c.finish()


def target_file(data: bytes) -> None:
    import pgarchive
    from pgarchive.verify import verify

    path = os.path.join(TMP, "a.dump" if data[:5] == b"PGDMP" else "a.tar")
    with open(path, "wb") as f:
        f.write(data)
    try:
        with pgarchive.open(path) as a:
            for e in a.entries:
                if e.has_data and e.desc != "BLOBS":
                    for _ in a.data(e):
                        pass
        verify(path)
    except ArchiveError:
        pass


def _reference_ids(data: bytes, max_id: int) -> list[int]:
    """pg_restore's SortTocFromFile rule, written plainly over whole lines."""
    ids: list[int] = []
    lines, joined = [], b""
    for physical in data.split(b"\n"):  # fgets + strlen: a NUL joins the next line on
        if b"\0" in physical:
            joined += physical.split(b"\0", 1)[0]
        else:
            lines.append(joined + physical)
            joined = b""
    if joined:
        lines.append(joined)
    for line in lines:
        c = line
        if b";" in c:
            line = c = c[:c.index(b";")]
        if not line.strip(b" \t\r\n"):
            continue
        m = re.match(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)", c)
        if not m:
            continue
        v = min(int(m.group(2)), (1 << 63) - 1 + (m.group(1) == b"-"))
        v = (-v if m.group(1) == b"-" else v) & 0xFFFFFFFF
        v = v - (1 << 32) if v >= 1 << 31 else v
        if 0 < v <= max_id and v not in ids:
            ids.append(v)
    return ids


def target_list(data: bytes) -> None:
    if not data:
        return
    max_id = data[0] * 40
    body = data[1:]
    step = data[0] % 7 + 1
    got = parse_list_chunks([body[i:i + step] for i in range(0, len(body), step)], max_id)
    assert got.ids == _reference_ids(body, max_id), (got.ids, body)


def target_filter(data: bytes) -> None:
    with contextlib.suppress(ArchiveError):
        parse_filter_file(data.decode("utf-8", "surrogateescape"))


def target_manifest(data: bytes) -> None:
    path = os.path.join(TMP, "manifest.json")
    with open(path, "wb") as f:
        f.write(data)
    with contextlib.suppress(ArchiveError):
        load_manifest(path, 1 << 20)


def target_pattern(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    pattern, _, name = text.partition("\x00")
    pattern = pattern[:12]
    name = name[:40]
    try:
        compiled = compile_pattern(pattern, qualified=False)
    except ArchiveError:
        return
    if compiled.exact:
        assert compiled.matches(name) == (name == pattern)
        return
    got = compiled.matches(name)
    if pattern.count("*") <= 3:  # the reference backtracks: O(name^stars), the very ReDoS
        (rx,) = reference_regex(pattern)
        assert got == bool(re.fullmatch(rx, name, re.S)), (pattern, name)
    shown = for_terminal(name)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in shown)


def target_all(data: bytes) -> None:
    for t in (target_toc, target_blocks, target_copy, target_list, target_filter,
              target_manifest, target_pattern):
        t(data)


TARGETS = {"toc": target_toc, "blocks": target_blocks, "copy": target_copy,
           "file": target_file, "list": target_list, "filter": target_filter,
           "manifest": target_manifest, "pattern": target_pattern, "all": target_all}


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in TARGETS else "toc"
    argv = [sys.argv[0]] + [a for a in sys.argv[1:] if a != name]
    atheris.Setup(argv, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
