"""Pseudonyms: a keyed hash of a channel id, so answers never carry who gave them."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymize(key: bytes, channel: str, channel_id: str) -> str:
    """Derives a respondent's stable pseudonym; without the key it cannot be traced back."""
    return hmac.new(key, f"{channel}:{channel_id}".encode(), hashlib.sha256).hexdigest()
