"""Coverage-guided fuzzing of the header, TOC and data readers with atheris.

    python tests/fuzz/fuzz_reader.py [TARGET] [atheris/libFuzzer flags]
    python tests/fuzz/fuzz_reader.py toc -max_total_time=3600 tests/fuzz/corpus_toc

TARGET is one of toc (header + TOC, pure), blocks (custom data blocks and decompression),
copy (COPY text checker), file (the whole reader and verify on a file).  Seed a corpus
folder with real archives (``cp testdata/pg18/*.dump tests/fuzz/corpus_toc/``).  Anything
but an ArchiveError is a crash: add the input as a regression test in
tests/test_fuzz_regressions.py.
"""

from __future__ import annotations

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


TARGETS = {"toc": target_toc, "blocks": target_blocks, "copy": target_copy,
           "file": target_file}


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in TARGETS else "toc"
    argv = [sys.argv[0]] + [a for a in sys.argv[1:] if a != name]
    atheris.Setup(argv, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
