"""Moved to `tests.support.dovecot`; this re-export stays only until no test imports the old path."""

from tests.support.dovecot import *  # noqa: F403
from tests.support.dovecot import DovecotServer, dovecot, require_dovecot  # noqa: F401
