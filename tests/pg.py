"""Placeholder until the PostgreSQL plugin lands (being written)."""
