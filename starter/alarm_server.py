"""The alarm intake (信息化核查, 001 §4(4)): the electronic monitoring platform posts its alarms here.

    POST /alarms
    X-Signature-256: sha256=<hex HMAC-SHA256 of the body with the platform's secret>
    {"timestamp": 1764577200, "nonce": "<16-100 URL-safe characters, new for every request>",
     "alarm": {"alarm_id": "PT-20261123-000731", "kind": "out_of_bounds", ...}}

- **signed**: the whole body (timestamp, nonce and alarm together) is bound by the signature, made with
  the platform's secret (``ALARM_PLATFORM_SECRET_FILE``, a file holding it, or ``ALARM_PLATFORM_SECRET``;
  at least 32 characters); the same signing and the same freshness rules as the acknowledgement server
  (``starter/ack_server.py``, shared code);
- **fresh, once**: ``timestamp`` within ``ALARM_REPLAY_WINDOW_SECONDS`` (default 300) of now, each
  ``nonce`` accepted once in that window (409 on a replayed request);
- **idempotent**: the platform's ``alarm_id`` is the key: the same alarm posted again (a redelivery, with
  a new nonce) answers 200 ``"already_received": true`` and starts nothing;
- at most 32 KiB; the alarm validated before anything reaches Temporal (400 names the field, never a
  value); the log carries the workflow id and kind only, never the subject's data.

Answers (JSON, ``message_zh`` in Chinese): 200 received (or already received), 400 malformed, 401 bad
signature or stale timestamp, 404 other paths, 405 not POST, 409 replayed nonce, 413 too large,
503 Temporal unavailable (retry with the same alarm id).

    ALARM_PLATFORM_SECRET_FILE=/run/secrets/alarm-platform ALARM_SERVER_PORT=8091 python -m starter alarm-server
"""

from __future__ import annotations

import asyncio
import os
from http import HTTPStatus
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from temporalio.client import Client
from temporalio.service import RPCError

from activities.http import SIGNATURE_HEADER, verify
from plan.alarms import MAX_ALARM_BYTES
from starter.ack_server import BadRequest, SignedServer, fresh, json_object, until_stopped
from starter.alarms import AlarmClient
from starter.api import InvalidInput

log = structlog.get_logger("starter.alarm_server")

SECRET_ENV, SECRET_FILE_ENV = "ALARM_PLATFORM_SECRET", "ALARM_PLATFORM_SECRET_FILE"
MIN_SECRET = 32
ERRORS_ZH = {
    HTTPStatus.BAD_REQUEST: "报警数据有误",  # (ours)
    HTTPStatus.UNAUTHORIZED: "签名无效或请求已过期",  # (ours)
    HTTPStatus.NOT_FOUND: "地址不存在",  # (ours)
    HTTPStatus.METHOD_NOT_ALLOWED: "仅接受 POST",  # (ours)
    HTTPStatus.CONFLICT: "重复的请求(nonce 已使用)",  # (ours)
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "请求过大",  # (ours)
    HTTPStatus.SERVICE_UNAVAILABLE: "系统暂不可用,请以同一报警编号重试",  # (ours)
}


class SecretError(ValueError):
    """The platform's secret is missing or too short: one line naming the variable."""


def platform_secret(environ: dict[str, str] | None = None) -> bytes:
    env = os.environ if environ is None else environ
    path = env.get(SECRET_FILE_ENV)
    try:
        text = Path(path).read_text(encoding="utf-8").strip() if path else env.get(SECRET_ENV, "").strip()
    except OSError as err:
        raise SecretError(f"{SECRET_FILE_ENV}: cannot read {path} ({err.strerror})") from None
    if len(text) < MIN_SECRET:
        raise SecretError(f"{SECRET_FILE_ENV} or {SECRET_ENV}: the platform's secret, at least {MIN_SECRET} characters")
    return text.encode("utf-8")


class AlarmServer(SignedServer):
    """``POST /alarms`` (see the module docstring)."""

    NAME = "alarm server"
    MAX_BODY = MAX_ALARM_BYTES
    WINDOW_ENV = "ALARM_REPLAY_WINDOW_SECONDS"

    def __init__(self, client: Client, secret: bytes, host: str = "127.0.0.1", port: int = 8091, *,
                 queue: str | None = None, window: float | None = None, **kw) -> None:
        super().__init__(client, host, port, window=window, **kw)
        self.secret = secret
        self.alarms = AlarmClient(client, queue)

    def refused(self, status: HTTPStatus, reason: str) -> dict[str, Any]:
        return {"error": reason, "message_zh": ERRORS_ZH.get(status, "内部错误")}  # (ours)

    async def serve(self, request: web.Request) -> tuple[HTTPStatus, dict]:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "GET" and parts == ["healthz"]:
            return HTTPStatus.OK, {"ok": True}
        if parts != ["alarms"]:
            raise BadRequest(HTTPStatus.NOT_FOUND, "POST /alarms")
        if request.method != "POST":
            raise BadRequest(HTTPStatus.METHOD_NOT_ALLOWED, "POST only")
        body = await request.read()
        if not verify(self.secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("alarm refused: bad signature")
            raise BadRequest(HTTPStatus.UNAUTHORIZED, f"{SIGNATURE_HEADER}: missing or wrong signature")
        data = json_object(body)
        now = self.clock()
        nonce = fresh(data, now, self.window)
        alarm = data.get("alarm")
        if not isinstance(alarm, dict):
            raise BadRequest(HTTPStatus.BAD_REQUEST, "alarm: required, the alarm as a JSON object")
        self.once(nonce, now, "alarm")
        try:
            receipt = await self.alarms.receive(alarm)
        except InvalidInput as err:
            raise BadRequest(HTTPStatus.BAD_REQUEST, str(err)) from None
        except RPCError as err:
            log.error("alarm not delivered to Temporal", status=str(err.status))
            raise BadRequest(HTTPStatus.SERVICE_UNAVAILABLE, "Temporal unavailable, retry with the same alarm id") from None
        return HTTPStatus.OK, {"ok": True, **receipt.model_dump(mode="json")}


async def serve(stop: asyncio.Event | None = None, *, bureau: str | None = None, **overrides) -> None:
    """``bureau``: serve that bureau's namespace with its keys (issue 17); ``overrides``: connection."""
    from infra.settings import connect

    secret = platform_secret()
    client = await connect(bureau=bureau, **overrides)
    host = os.environ.get("ALARM_SERVER_HOST", "127.0.0.1")
    port = int(os.environ.get("ALARM_SERVER_PORT", "8091"))
    await until_stopped(AlarmServer(client, secret, host, port), stop)
