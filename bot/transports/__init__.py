"""The transports: each owns one protocol (Bot API, HTTP, IMAP, SMTP) and calls the engine through an adapter."""
