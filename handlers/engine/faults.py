"""Faults a channel must tell apart: the database or network failing for a while (try the same work
again) from a fault of one piece of work (answer it, log it, go on); and any database fault from
a fault in our own code."""

from __future__ import annotations

from storage.db import StorageError, is_database_fault, is_transient

__all__ = ["StorageError", "is_database_fault", "is_transient"]
