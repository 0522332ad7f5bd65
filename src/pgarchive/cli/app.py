"""The ``pgarchive`` command group; each command lives in a module of its own."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Run 'pgarchive COMMAND -h' for a command's options and examples.")
@click.version_option(package_name="pgarchive")
def cli() -> None:
    """Inspect, verify and selectively restore PostgreSQL pg_dump archives."""
