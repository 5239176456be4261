"""The email adapter: raw messages parsed, classified and read; replies rendered as text."""
