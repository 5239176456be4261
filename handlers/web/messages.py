"""The web chat's own catalog keys (config/messages.yaml) and the placeholders each takes."""

from __future__ import annotations

MESSAGES: dict[str, set[str]] = {
    "web_title": set(),
    "web_privacy_more": set(),
    "web_skip": set(),
    "web_send": set(),
    "web_answer": set(),
    "web_characters": {"limit"},
    "web_language": set(),
    "web_assisted": set(),
    "web_next_person": set(),
    "web_start_again": set(),
    "web_review": set(),
    "web_kiosk_note": set(),
    "web_kiosk_saved": set(),
    "web_kiosk_cleared": set(),
    "web_too_many": set(),
    "web_too_many_visitors": set(),
    "web_expired": set(),
    "web_bad_request": set(),
    "web_too_slow": set(),
    "web_other_site": set(),
    "web_unavailable": set(),
    "web_unavailable_page": set(),
    "web_send_again": set(),
}
