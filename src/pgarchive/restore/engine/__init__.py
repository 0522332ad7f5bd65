"""The native restore engine: pg_restore's work, done by pgarchive itself over psycopg.

No PostgreSQL client is needed.  The entries' statements are the renderer's
(:mod:`pgarchive.script`), run as pg_restore runs them when connected to a database
(:mod:`.executor`), on one connection or, with -j, as pg_restore schedules them on
several (:mod:`.scheduler`, :mod:`.driver`); connections are made and made again by
:mod:`.connection`; --resume keeps its record in the target (:mod:`.state`).
"""

from .connection import RetryPolicy
from .driver import EngineRequest, EngineResult, run_engine

__all__ = ["EngineRequest", "EngineResult", "RetryPolicy", "run_engine"]
