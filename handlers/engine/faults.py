"""Faults a channel must tell apart: the database or network failing for a while (try the same work
again) from a fault of one piece of work (answer it, log it, go on)."""

from __future__ import annotations

from storage.db import is_transient

__all__ = ["is_transient"]
