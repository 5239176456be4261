"""Moved to `tests.support.postgres`; this re-export stays only until no test imports the old path."""

from tests.support.postgres import *  # noqa: F403
from tests.support.postgres import PostgresServer, free_port, postgres_server, postgres_url, servers_required  # noqa: F401
