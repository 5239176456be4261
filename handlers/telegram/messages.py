"""The Telegram adapter's own catalog keys (config/messages.yaml) and the placeholders each takes.

Apart from ui.py so that loading the catalog does not import the Telegram library."""

from __future__ import annotations

MESSAGES: dict[str, set[str]] = {
    "error_flood": set(),
    "group_private": set(),
    "btn_open_private": set(),
    "cmd_start": set(),
    "cmd_help": set(),
    "cmd_language": set(),
    "cmd_back": set(),
    "cmd_skip": set(),
    "cmd_cancel": set(),
    "cmd_events": set(),
    "cmd_privacy": set(),
    "cmd_mydata": set(),
    "cmd_forget": set(),
    "cmd_grupy": set(),  # shown only while config/recruitment.yaml exists
    # Telegram's own wording of engine texts (the Presenter's `for_channel`): these name /commands.
    "telegram_help": set(),
    "telegram_privacy_more": set(),
    "telegram_declined": set(),
    "telegram_cancelled": set(),
    "telegram_forgotten": set(),
    "telegram_error_unknown_command": set(),
    "telegram_error_choice": set(),
    "telegram_error_edited": set(),
}
