"""Channel configuration (``EMERGENCY_CHANNELS``, sample ``config/channels.example.json``), validated on
load with pydantic: each named channel is a webhook, an SMS gateway or an SMTP account.

Secrets are given inline (``secret``, ``password``: for tests and local receivers) or, in
production, as the name of an environment variable (``secret_env``, ``password_env``) that must be
set when the worker starts. Errors name the file, the line and field, and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from activities.email import EmailChannel
from activities.sms import PLACEHOLDERS, SmsChannel, placeholders
from activities.webhook import WebhookChannel
from plan.roster import RosterError, read_json, validation_error, where

RESERVED = frozenset({"outbox", "drill-outbox"})


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    acknowledges: bool = False
    """Its receivers call back on receipt (回执, ``starter/ack_server.py``)."""
    timeout_seconds: float = Field(default=10.0, gt=0, le=25)
    """Per request; below the activity's 30 s attempt timeout."""


def _secret(inline: str | None, env: str | None, fld: str, required: bool) -> tuple[tuple, str] | None:
    if inline is not None and env is not None:
        return (fld,), f"give {fld} or {fld}_env, not both"
    if env is not None and not os.environ.get(env):
        return (f"{fld}_env",), f"environment variable {env} is not set"
    if required and inline is None and env is None:
        return (fld,), f"{fld} (or {fld}_env) is required"
    return None


def _value(inline: str | None, env: str | None) -> str | None:
    return inline if inline is not None else (os.environ.get(env) if env else None)


def _transport(value: str | None, fld: str) -> str | None:
    from activities.http import url_problem

    if value is not None:
        problem = url_problem(value.replace("{", "").replace("}", ""))
        if problem:
            raise ValueError(f"{fld}: {problem}")
    return value


class WebhookConfig(_Channel):
    kind: Literal["webhook"]
    url: str | None = Field(default=None, pattern=r"^https?://")
    """Default endpoint; a roster contact's ``address`` (a URL) overrides it."""
    secret: str | None = Field(default=None, min_length=16)
    secret_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _https(self) -> WebhookConfig:
        _transport(self.url, "url")
        return self

    def secrets_problem(self) -> tuple[tuple, str] | None:
        return _secret(self.secret, self.secret_env, "secret", True)

    def build(self, name: str) -> WebhookChannel:
        secret = _value(self.secret, self.secret_env)
        if secret is None:  # secrets_problem() refuses this at load; never sign with an empty secret
            raise ValueError(f"channels.{name}.secret: not set")
        return WebhookChannel(
            name,
            url=self.url,
            secret=secret.encode("utf-8"),
            timeout=self.timeout_seconds,
            acknowledges=self.acknowledges,
            headers=self.headers,
        )


class SmsConfig(_Channel):
    kind: Literal["sms"]
    url_template: str = Field(pattern=r"^https?://")
    method: Literal["GET", "POST"] = "POST"
    body_template: dict[str, str] | None = None
    body_format: Literal["json", "form"] = "json"
    sender: str = ""
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    secret: str | None = Field(default=None, min_length=16)
    secret_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _templates(self) -> SmsConfig:
        used = placeholders(self.url_template)
        for v in (self.body_template or {}).values():
            used |= placeholders(v)
        unknown = used - PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}} (use {{to}}, {{text}}, {{key}}, {{ack_key}}, {{sender}})")
        if "to" not in used:
            raise ValueError("url_template or body_template must contain {to}")
        _transport(self.url_template.split("?", 1)[0], "url_template")
        return self

    def secrets_problem(self) -> tuple[tuple, str] | None:
        return _secret(self.password, self.password_env, "password", False) or _secret(
            self.secret, self.secret_env, "secret", False
        )

    def build(self, name: str) -> SmsChannel:
        secret = _value(self.secret, self.secret_env)
        return SmsChannel(
            name,
            url_template=self.url_template,
            method=self.method,
            body_template=self.body_template,
            body_format=self.body_format,
            sender=self.sender,
            username=self.username,
            password=_value(self.password, self.password_env),
            secret=secret.encode("utf-8") if secret else None,
            headers=self.headers,
            timeout=self.timeout_seconds,
            acknowledges=self.acknowledges,
        )


class EmailConfig(_Channel):
    kind: Literal["email"]
    acknowledges: Literal[False] = False
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    """``none`` is allowed only for a relay on loopback."""
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    ca_file: str | None = None
    domain: str = "judicial-emergency.invalid"

    @model_validator(mode="after")
    def _tls(self) -> EmailConfig:
        if self.security == "none" and self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("security: 'none' only for a relay on loopback; use starttls or tls")
        if self.security == "none" and self.username:
            raise ValueError("security: never send a password without TLS")
        if self.ca_file and not Path(self.ca_file).is_file():
            raise ValueError(f"ca_file: {self.ca_file} not found")
        return self

    def secrets_problem(self) -> tuple[tuple, str] | None:
        return _secret(self.password, self.password_env, "password", bool(self.username))

    def build(self, name: str) -> EmailChannel:
        return EmailChannel(
            name,
            host=self.host,
            port=self.port,
            sender=self.sender,
            security=self.security,
            username=self.username,
            password=_value(self.password, self.password_env),
            ca_file=self.ca_file,
            timeout=self.timeout_seconds,
            domain=self.domain,
        )


ChannelConfig = Annotated[WebhookConfig | SmsConfig | EmailConfig, Field(discriminator="kind")]


class ChannelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,39}$")], ChannelConfig]

    @model_validator(mode="after")
    def _names(self) -> ChannelsFile:
        bad = RESERVED & set(self.channels)
        if bad:
            raise ValueError(f"channel name {sorted(bad)[0]!r} is reserved for the local outbox")
        return self


def load_channels(path: Path | str) -> ChannelsFile:
    """Load and validate; environment variables named by ``*_env`` must be set now (worker start)."""
    path = Path(path)
    text, raw = read_json(path)
    try:
        cfg = ChannelsFile.model_validate(raw)
    except ValidationError as err:
        raise validation_error(path, text, err) from None
    for name, ch in cfg.channels.items():
        problem = ch.secrets_problem()
        if problem:
            loc, msg = problem
            raise RosterError(f"{where(path, text, ('channels', name, *loc))}: {msg}")
    return cfg


def channel_secrets(cfg: ChannelsFile) -> dict[str, bytes]:
    """Each HTTP channel's signing secret, by channel name (what ``starter/ack_server.py`` verifies)."""
    out: dict[str, bytes] = {}
    for name, ch in cfg.channels.items():
        if isinstance(ch, WebhookConfig | SmsConfig):
            value = _value(ch.secret, ch.secret_env)
            if value:
                out[name] = value.encode("utf-8")
    return out
