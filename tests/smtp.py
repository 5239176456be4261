"""Moved to `tests.support.smtp`; this re-export stays only until no test imports the old path."""

from tests.support.smtp import *  # noqa: F403
from tests.support.smtp import TEMPORARY_FAILURE, ReceivedMail, RecordingSMTPServer, smtp_server  # noqa: F401
