"""Moved to `tests.support.ports`; this re-export stays only until no test imports the old path."""

from tests.support.ports import *  # noqa: F403
from tests.support.ports import free_port  # noqa: F401
