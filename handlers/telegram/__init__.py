"""The Telegram adapter: updates into Inbounds, Replies into messages with inline keyboards."""
