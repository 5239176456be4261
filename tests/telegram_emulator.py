"""Moved to `tests.support.telegram_emulator`; this re-export stays only until no test imports the old path."""

from tests.support.telegram_emulator import *  # noqa: F403
from tests.support.telegram_emulator import BOT_USERNAME, BotApiEmulator, Call, Fault  # noqa: F401
