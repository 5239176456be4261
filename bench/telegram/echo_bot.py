"""A bare python-telegram-bot echo bot: the floor the Telegram benchmark measures our service against."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the text back."""
    assert update.effective_chat is not None and update.effective_message is not None
    await update.effective_chat.send_message(update.effective_message.text or "?")


def main() -> None:
    application = (
        ApplicationBuilder()
        .token(os.environ["WSPOLNOTA_TELEGRAM_TOKEN"])
        .base_url(os.environ["WSPOLNOTA_TELEGRAM_API_URL"])
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(poll_interval=0, timeout=5)


if __name__ == "__main__":
    main()
