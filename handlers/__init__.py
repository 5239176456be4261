"""What to do with a resident's message: the engine, the staff-edited definitions and one adapter per channel.

Not python-telegram-bot's "handlers" (callbacks): the channel-agnostic conversation engine
(`engine/`), the questionnaires, events and catalog it reads (`definitions/`), and the pure
functions that translate each channel's input into an `Inbound` and `Reply`s back into what the
channel shows (`telegram/`, `web/`, `email/`, `terminal/`). Nothing here opens a socket.
"""
