"""The ``pgarchive`` command group; each command lives in a module of its own."""

from __future__ import annotations

import click

from .. import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Run 'pgarchive COMMAND -h' for a command's options and examples.")
# the version given, not looked up: importlib.metadata scans site-packages (~30 ms)
@click.version_option(__version__, prog_name="pgarchive")
def cli() -> None:
    """Inspect, verify and selectively restore PostgreSQL pg_dump archives."""
