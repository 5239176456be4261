"""The service's settings: one frozen object from WSPOLNOTA_* environment variables and `.env`."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from handlers.definitions.config_files import ConfigError, Problem
from handlers.web.guard import kiosk_tokens
from storage.db import DatabaseUnavailable, database_url

PREFIX = "WSPOLNOTA_"
MIN_SECRET_KEY_LENGTH = 32
REPOSITORY_CONFIG = Path(__file__).resolve().parent.parent / "config"


class Settings(BaseModel):
    """Everything the service reads from its environment; built once and passed down."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Path("data")
    database_url: str | None = None  # default: an SQLite file in data_dir
    secret_key: SecretStr | None = None  # keys the pseudonyms; generated into data_dir if unset
    config_dir: Path = REPOSITORY_CONFIG
    questionnaire: str | None = None  # the default questionnaire id; default the first one
    log_level: str = "INFO"
    chromium: str | None = None  # the browser that prints `report --format pdf` (default: chromium on PATH)
    staff_language: Literal["pl", "en"] = "pl"  # the language of staff's figures (`wspolnota stats`, /stats)
    telegram_token: SecretStr | None = None  # the Telegram channel runs when this is set
    telegram_api_url: str = "https://api.telegram.org/bot"  # python-telegram-bot's base_url
    telegram_staff_ids: frozenset[int] = frozenset()  # may use /stats and /export
    telegram_poll_timeout: int = Field(default=30, ge=0, le=50)  # getUpdates long-polling seconds
    # Messages per second the bot sends in all; 0 = no cap of our own, Telegram's 429s are obeyed.
    telegram_max_rate: float = Field(default=0, ge=0)
    # Updates one user may send in 10 seconds before the rest are dropped (0 = no limit).
    telegram_flood_limit: int = Field(default=20, ge=0)
    # How long a reply that Telegram does not take (network, 5xx) is tried again, with growing pauses.
    telegram_reply_retry_minutes: float = Field(default=15, gt=0)
    imap_host: str | None = None  # the mailbox channel runs when this is set
    imap_port: int | None = None  # default 993 for ssl, 143 otherwise
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_security: Literal["ssl", "starttls", "plain"] = "ssl"
    imap_ca_file: Path | None = None  # a private CA to trust (self-hosted servers, tests)
    imap_folder: str = "INBOX"
    imap_processed_folder: str | None = "Processed"  # read mail is moved here (never deleted)
    imap_unreadable_folder: str = "Unreadable"  # mail we cannot read or store is set aside here for staff
    imap_timeout: float = Field(default=30, gt=0)  # seconds for any one IMAP exchange
    smtp_host: str | None = None
    smtp_port: int | None = None  # default 465 for ssl, 587 for starttls, 25 for plain
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["ssl", "starttls", "plain"] = "starttls"
    mail_from: str = "wspolnota@um.warszawa.pl"
    # The domain of our Message-IDs: only this service uses it, so a reply to us is recognised.
    mail_domain: str = "wspolnota.um.warszawa.pl"
    mail_reply_window_days: float = Field(default=7, ge=0)  # one form per sender in this window
    mail_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)  # kept of one email (with a CV); more is cut, marked

    web_enabled: bool = True  # the web chat: the stand's tablet, and the service with nothing else set
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    web_kiosk: bool = False  # this whole server is a stand's tablet: every visitor is a kiosk's next person
    web_event: str | None = None  # the event (slug or slug__stand) visitors without `?event=` belong to
    web_kiosk_idle: float = Field(default=180, ge=5)  # seconds without a touch before a kiosk resets
    web_session_days: float = Field(default=30, gt=0)  # how long a phone can come back and resume
    web_rate_limit: int = Field(default=60, ge=0)  # posts per minute per visitor (0 = no limit)
    web_secure_cookie: bool = False  # set when the chat is served over HTTPS (behind a proxy)
    # Stands' tablets: `?kiosk=<token>` makes a browser a kiosk (comma-separated `token` or `name=token`).
    web_kiosk_tokens: tuple[str, ...] = ()
    # Ballot stuffing: new visitors (a browser without our cookie) one client address may start in an
    # hour — a stand's or café's shared Wi-Fi is many residents behind one address — and one stand's
    # kiosk token; submissions an address (a kiosk) may finish in an hour before further ones are flagged.
    web_new_visitors_per_hour: int = Field(default=120, ge=0)  # 0 = no limit
    web_kiosk_new_visitors_per_hour: int = Field(default=300, ge=0)
    web_completions_per_hour: int = Field(default=10, ge=0)  # 0 = never flag
    web_kiosk_completions_per_hour: int = Field(default=60, ge=0)
    web_trusted_proxy: bool = False  # behind our own reverse proxy: the client is its X-Forwarded-For entry
    # The web chat's public address (https://ankieta.example.pl): what posters' QR codes, the console's event
    # links and staff setup links lead to. Unset: the address the browser used to reach the console.
    public_url: str | None = None
    # Connections open at once (also kept under the file descriptor limit); when full, the oldest one
    # still waiting for its request makes room (a stalled client, not a visitor being answered).
    web_max_connections: int = Field(default=256, ge=8)
    web_read_timeout: float = Field(default=15, gt=0)  # seconds for a request's headers, and for its form
    web_idle_timeout: float = Field(default=60, gt=0)  # seconds an idle keep-alive connection is kept open
    # The staff console (/staff): a signed-in browser is signed out after this many idle minutes, and
    # after this many hours whatever it does; a setup link works this many hours.
    staff_session_idle_minutes: float = Field(default=30, gt=0)
    staff_session_hours: float = Field(default=12, gt=0)
    staff_setup_hours: float = Field(default=72, gt=0)

    @field_validator("telegram_staff_ids", "web_kiosk_tokens", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("web_kiosk_tokens")
    @classmethod
    def _kiosk_tokens(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        kiosk_tokens(value)  # raises ValueError naming the entry, never echoing a token
        return value

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
            raise ValueError("give the web chat's address, e.g. https://ankieta.example.pl")
        return value.strip().rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # It keys the HMAC pseudonyms: a short key could be guessed and every chat id tried.
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"too short: use at least {MIN_SECRET_KEY_LENGTH} characters, e.g. from "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))' "
                "(or leave it unset to have one generated into DATA_DIR/secret.key)"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                database_url(value)
            except DatabaseUnavailable as err:
                raise ValueError(str(err)) from None
        return value

    @property
    def database(self) -> str:
        """The SQLAlchemy URL to use."""
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'wspolnota.db').resolve()}"

    @property
    def questionnaires_dir(self) -> Path:
        return self.config_dir / "questionnaires"

    @property
    def events_file(self) -> Path:
        return self.config_dir / "events.yaml"

    @property
    def messages_file(self) -> Path:
        return self.config_dir / "messages.yaml"

    @property
    def recruitment_file(self) -> Path:
        return self.config_dir / "recruitment.yaml"

    @property
    def population_file(self) -> Path:
        return self.config_dir / "population.yaml"

    def pseudonym_key(self) -> bytes:
        """Returns the key for pseudonyms, creating `data_dir/secret.key` on first use if unset."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Created with 0600 in one step so the key is never readable by others.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Reads settings from a mapping (default `os.environ`), over the values in `env_file`.

    Raises:
        ConfigError: naming every wrong or unknown WSPOLNOTA_ variable at once.
    """
    values: dict[str, Any] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    fields = {name.removeprefix(PREFIX).lower(): value for name, value in values.items() if name.startswith(PREFIX)}
    known = set(Settings.model_fields)
    # Channels added later read their own variables; only our own fields are checked here.
    ours = {name: value for name, value in fields.items() if name in known and value != ""}
    try:
        return Settings.model_validate(ours)
    except ValidationError as err:
        problems = [
            Problem("environment", PREFIX + str(error["loc"][0]).upper(), error["msg"].removeprefix("Value error, "))
            for error in err.errors(include_url=False)
        ]
        raise ConfigError(problems) from None
