"""Name patterns: exact names as pg_restore takes them, psql patterns as pg_dump does."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from helpers import TESTDATA
from pgarchive.cli import cli
from pgarchive.errors import UsageError
from pgarchive.patterns import compile_pattern, parse_filter_file


@pytest.mark.parametrize("pattern, name, schema, expected", [
    ("orders", "orders", "app", True),
    ("Orders", "orders", "app", False),          # exact, as pg_restore compares
    ("Order Lines", "Order Lines", "x", True),   # plain names may have spaces
    ("ord*", "orders", "app", True),
    ("ORD*", "orders", "app", True),             # unquoted pattern text folds to lower case
    ('"Ord"*', "orders", "app", False),
    ("app.orders", "orders", "app", True),
    ("app.orders", "orders", "public", False),
    ("*.orders", "orders", "public", True),
    ('"Mixed Case Schema"."Order Lines"', "Order Lines", "Mixed Case Schema", True),
    ('"odd ""quoted"""*', 'odd "quoted"\nname', "public", True),
    ('"odd ""quoted""*"', 'odd "quoted"\nname', "public", False),  # quoted * is literal
    ("order?", "orders", "app", True),
    ("order?", "order", "app", False),
    ("o+", "o+", "app", True),                   # regex characters are literal
])
def test_patterns(pattern: str, name: str, schema: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(name, schema) is expected


def test_bad_patterns() -> None:
    with pytest.raises(UsageError):
        compile_pattern("a.b.c")
    with pytest.raises(UsageError):
        compile_pattern('"open')


def test_filter_file_rejects_what_pg_restore_rejects() -> None:
    with pytest.raises(UsageError, match="not allowed"):
        parse_filter_file("exclude table orders\n")
    with pytest.raises(UsageError, match="missing"):
        parse_filter_file("include table\n")
    got = parse_filter_file('include table "Order Lines" # a comment\ninclude schema app\n')
    assert got["tables"] == ['"Order Lines"'] and got["schemas"] == ["app"]


def test_explain_and_patterns_from_cli() -> None:
    res = CliRunner().invoke(cli, ["ls", str(TESTDATA / "pg18" / "custom.dump"), "--json",
                                   "--explain", "-t", "app.ord*", "--with-deps"])
    assert res.exit_code == 0, res.output
    import json
    rows = {r["dump_id"]: r for r in json.loads(res.stdout)}
    tags = {(r["desc"], r["tag"]) for r in rows.values()}
    assert ("TABLE", "orders") in tags and ("TABLE", "order_log") in tags
    assert ("MATERIALIZED VIEW", "order_stats") in tags
    # the view order_totals matches too, and needs customers: pulled in, saying why
    customers = next(r for r in rows.values() if (r["desc"], r["tag"]) == ("TABLE", "customers"))
    assert customers["reason"] == "needed by 237 VIEW app order_totals"
    trigger_fn = next(r for r in rows.values() if r["tag"] == "touch()")
    assert trigger_fn["reason"].startswith("needed by") and "orders_touch" in trigger_fn["reason"]


def test_list_lines_cannot_be_split_by_names() -> None:
    res = CliRunner().invoke(cli, ["ls", str(TESTDATA / "pg18" / "dir"), "-F", "list",
                                   "--explain", "-t", 'odd*', "--with-deps"])
    body = [line for line in res.stdout.splitlines() if not line.startswith(";")]
    assert body and all(line.split(";")[0].strip().isdigit() for line in body)
