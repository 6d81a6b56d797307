"""Acknowledgement endpoint (回执): gateways call it back when a notification reached its receiver.

    POST /ack/<channel name>
    X-Signature-256: sha256=<hex HMAC-SHA256 of the body with that channel's secret>
    {"key": "<the key the notification carried>", "by": "110指挥中心 接警员 0371", "at": "<ISO time, optional>"}

The key is ``<workflow id>/<step>/<recipient>`` (a roster route adds ``#<route id>``, dropped here);
workflow ids contain no ``/`` (``starter.api.incident_workflow_id``), so the workflow is the part
before the first ``/``. The server sends the workflow's ``acknowledge`` signal; the workflow meets the
acknowledgement deadline, or records a key it does not know as refused. Answers: 200 sent,
400 malformed body, 401 bad or missing signature, 404 unknown channel or incident, 405/411/413
bad request shape, 503 Temporal unavailable (the gateway should retry). Never a stack trace.

    EMERGENCY_CHANNELS=config/channels.json ACK_SERVER_HOST=0.0.0.0 ACK_SERVER_PORT=8090 \
        python -m starter.ack_server

Secrets: each webhook / SMS channel's ``secret`` from the channel configuration (the same secret
signs our requests to that gateway and its callbacks to us).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus

import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.http import SIGNATURE_HEADER, verify

log = structlog.get_logger("starter.ack_server")

MAX_BODY = 16 * 1024
_CHANNEL = re.compile(r"^/ack/([a-z0-9][a-z0-9_.\-]{0,39})/?$")
_WORKFLOW_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")


class BadRequest(Exception):
    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_ack(body: bytes) -> tuple[str, str, str, str | None]:
    """(workflow id, notification key, by, at) from a callback body, or :class:`BadRequest`."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "body: not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "body: not a JSON object")
    key, by, at = data.get("key"), data.get("by"), data.get("at")
    if not isinstance(key, str) or not key or len(key) > 400:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "key: required, a string")
    if not isinstance(by, str) or not by.strip() or len(by) > 200:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "by: required, who confirmed (at most 200 characters)")
    if at is not None:
        try:
            if not isinstance(at, str) or datetime.fromisoformat(at).tzinfo is None:
                raise ValueError
        except ValueError:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "at: an ISO time with its offset") from None
    notification_key = key.split("#", 1)[0]
    parts = notification_key.split("/")
    if len(parts) < 3 or not all(parts) or not _WORKFLOW_ID.match(parts[0]):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "key: not <workflow id>/<step>/<recipient>")
    return parts[0], notification_key, by.strip(), at


class AckServer:
    """The HTTP endpoint; ``start()`` binds (port 0 = any free port), ``close()`` stops."""

    def __init__(self, client: Client, secrets: Mapping[str, bytes], host: str = "127.0.0.1", port: int = 8090) -> None:
        self.client = client
        self.secrets = dict(secrets)
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> AckServer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("ack server listening", host=self.host, port=self.port, channels=sorted(self.secrets))
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> AckServer:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await asyncio.wait_for(self._handle(reader), timeout=30)
        except BadRequest as err:
            status, body = err.status, {"error": err.reason}
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            status, body = HTTPStatus.BAD_REQUEST, {"error": "malformed HTTP request"}
        except Exception as err:  # never a stack trace to the caller
            log.error("ack failed", error=type(err).__name__)
            status, body = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"}
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode("ascii") + payload)
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        except ConnectionError:
            pass

    async def _handle(self, reader: asyncio.StreamReader) -> tuple[HTTPStatus, dict]:
        request_line = (await reader.readuntil(b"\r\n")).decode("latin-1").strip()
        try:
            method, target, _version = request_line.split(" ", 2)
        except ValueError:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "malformed request line") from None
        headers: dict[str, str] = {}
        while True:
            line = (await reader.readuntil(b"\r\n")).decode("latin-1")
            if line in ("\r\n", ""):
                break
            if len(headers) > 100:
                raise BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too many headers")
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path = target.split("?", 1)[0]
        if method == "GET" and path == "/healthz":
            return HTTPStatus.OK, {"ok": True}
        match = _CHANNEL.match(path)
        if not match:
            raise BadRequest(HTTPStatus.NOT_FOUND, "POST /ack/<channel>")
        if method != "POST":
            raise BadRequest(HTTPStatus.METHOD_NOT_ALLOWED, "POST only")
        channel = match.group(1)
        secret = self.secrets.get(channel)
        if secret is None:
            raise BadRequest(HTTPStatus.NOT_FOUND, f"unknown channel {channel}")
        try:
            length = int(headers["content-length"])
        except (KeyError, ValueError):
            raise BadRequest(HTTPStatus.LENGTH_REQUIRED, "Content-Length required") from None
        if length < 0 or length > MAX_BODY:
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY} bytes")
        body = await reader.readexactly(length)
        if not verify(secret, body, headers.get(SIGNATURE_HEADER.lower())):
            log.warning("ack refused: bad signature", channel=channel)
            raise BadRequest(HTTPStatus.UNAUTHORIZED, f"{SIGNATURE_HEADER}: missing or wrong signature")
        wf_id, key, by, at = parse_ack(body)
        signal = {"key": key, "by": by} | ({"at": at} if at else {})
        try:
            await self.client.get_workflow_handle(wf_id).signal("acknowledge", signal)
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                raise BadRequest(HTTPStatus.NOT_FOUND, "no running incident for this key") from None
            log.error("ack not delivered to Temporal", workflow_id=wf_id, status=str(err.status))
            raise BadRequest(HTTPStatus.SERVICE_UNAVAILABLE, "Temporal unavailable, retry") from None
        log.info("acknowledgement signalled", workflow_id=wf_id, channel=channel)
        return HTTPStatus.OK, {"ok": True, "workflow_id": wf_id}


async def serve(stop: asyncio.Event | None = None) -> None:
    from activities.channel_config import channel_secrets, load_channels
    from infra.settings import connect

    path = os.environ.get("EMERGENCY_CHANNELS")
    if not path:
        raise SystemExit("error: EMERGENCY_CHANNELS: set it to the channel configuration (the secrets to verify)")
    secrets = channel_secrets(load_channels(path))
    client = await connect()
    host = os.environ.get("ACK_SERVER_HOST", "127.0.0.1")
    port = int(os.environ.get("ACK_SERVER_PORT", "8090"))
    stop = stop or asyncio.Event()
    import signal as _signal

    loop = asyncio.get_running_loop()
    for sig in (_signal.SIGINT, _signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    async with AckServer(client, secrets, host, port):
        await stop.wait()


def main() -> int:
    from infra import logging as logs
    from plan.agencies import DirectoryError

    logs.configure()
    try:
        asyncio.run(serve())
    except DirectoryError as err:
        log.error("configuration error", error=str(err))
        return 2
    except (RuntimeError, OSError) as err:
        log.error("ack server failed", error=str(err))
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    os._exit(code)  # no interpreter teardown: the SDK's runtime can abort there (sdk-python #300)
