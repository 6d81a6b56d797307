"""Acknowledgement endpoint (回执): gateways call it back when a notification reached its receiver.

    POST /ack/<channel name>
    X-Signature-256: sha256=<hex HMAC-SHA256 of the body with the route's secret>
    {"ack_key": "<the ack_key the notification carried>", "by": "110指挥中心 接警员 0371",
     "timestamp": 1764577200, "nonce": "<16-100 characters, new for every callback>", "at": "<ISO time, optional>"}

Only the right party can confirm a call:

- **bound to the route**: ``ack_key`` is the URL-safe base64 (RFC 4648 §5, no padding) of the
  delivery key ``<workflow id>/<step>/<recipient>#<route id>``, so it names the incident, the step,
  the recipient and the roster route (contact) it was sent to; any valid workflow id (Chinese
  characters, ``/``) survives the round trip. The route must belong to the channel in the path (per
  the roster, ``EMERGENCY_ROSTER``), and the signature key is that route's own secret,
  the hex ``HMAC-SHA256(<channel secret>, "judicial-emergency/ack-route/v1|" + <route id>)``
  (``python -m starter.ack_server route-secret <channel> <route id>`` prints it for the contact). A
  secret of one channel or route never confirms a notification sent on another.
- **fresh, once**: ``timestamp`` (Unix seconds) must be within ``ACK_REPLAY_WINDOW_SECONDS`` (default
  300) of now, and a ``nonce`` is accepted once within that window (409 on a replay).

The server then sends the workflow's ``acknowledge`` signal (the key without the route). Answers:
200 sent, 400 malformed, 401 bad signature, a route of another channel or a stale timestamp, 404
unknown channel or incident, 409 replay, 413 too large, 503 Temporal unavailable (retry). Never a
stack trace. Built on aiohttp.

    EMERGENCY_CHANNELS=config/channels.json EMERGENCY_ROSTER=config/roster.json \
        ACK_SERVER_HOST=0.0.0.0 ACK_SERVER_PORT=8090 python -m starter.ack_server
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, Self
from datetime import datetime
from http import HTTPStatus

import structlog
from aiohttp import web
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.http import SIGNATURE_HEADER, decode_key, encode_key, route_secret, verify

log = structlog.get_logger("starter.ack_server")

MAX_BODY = 16 * 1024
DEFAULT_WINDOW = 300
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,39}$")
_NONCE = re.compile(r"^[A-Za-z0-9_\-]{16,100}$")


class BadRequest(Exception):
    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def split_key(key: str) -> tuple[str, str, str]:
    """(workflow id, notification key, route id) of ``<workflow id>/<step>/<recipient>#<route id>``;
    the workflow id may itself contain ``/`` or ``#`` (step, recipient and route never do)."""
    notification_key, sep, route = key.rpartition("#")
    parts = notification_key.rsplit("/", 2)
    if not sep or not route or len(parts) != 3 or not all(parts):
        raise ValueError
    return parts[0], notification_key, route


def json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or BadRequest."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "body: not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "body: not a JSON object")
    return data


def fresh(data: dict[str, Any], now: float, window: float) -> str:
    """The signed body's ``timestamp`` (Unix seconds, within ``window`` of now) and ``nonce`` (16-100
    URL-safe characters): checked, the nonce returned (the caller checks it is used once)."""
    ts, nonce = data.get("timestamp"), data.get("nonce")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "timestamp: required, Unix seconds")
    if abs(now - ts) > window:
        raise BadRequest(HTTPStatus.UNAUTHORIZED, f"timestamp: outside the {window:.0f} s window (clock or replay)")
    if not isinstance(nonce, str) or not _NONCE.match(nonce):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "nonce: required, 16-100 URL-safe characters")
    return nonce


def parse_ack(body: bytes, now: float, window: float) -> tuple[str, str, str, str, str, str | None]:
    """(workflow id, notification key, route id, nonce, by, at) from a callback body, or BadRequest."""
    data = json_object(body)
    by, at = data.get("by"), data.get("at")
    try:
        wf_id, key, route = split_key(decode_key(str(data.get("ack_key") or "")))
    except ValueError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "ack_key: required, the ack_key the notification carried") from None
    if not isinstance(by, str) or not by.strip() or len(by) > 200:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "by: required, who confirmed (at most 200 characters)")
    nonce = fresh(data, now, window)
    if at is not None:
        try:
            if not isinstance(at, str) or datetime.fromisoformat(at).tzinfo is None:
                raise ValueError
        except ValueError:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "at: an ISO time with its offset") from None
    return wf_id, key, route, nonce, by.strip(), at


def route_channels(roster) -> Callable[[str], set[str]]:
    """route id -> the channels it may be sent on, from a :class:`plan.roster.Roster`."""
    from plan.agencies import Agency

    table: dict[str, set[str]] = {}
    for agency, route in roster.agencies.items():
        for c in [*route.contacts, *(c for cs in route.jurisdictions.values() for c in cs)]:
            table.setdefault(f"{agency.value}.{c.id}", set()).add(c.channel)
    for pid, person in roster.people.items():
        for c in person.contacts:
            table.setdefault(f".{pid}.{c.id}", set()).add(c.channel)
    if roster.default_channel:
        for agency in Agency:
            table.setdefault(f"{agency.value}.default", set()).add(roster.default_channel)

    def lookup(route_id: str) -> set[str]:
        if route_id in table:
            return table[route_id]
        unit, _, rest = route_id.partition(".")  # <unit>.<person>.<contact>
        return table.get(f".{rest}", set()) if unit and "." in rest else set()

    return lookup


class NonceCache:
    """Nonces seen within the replay window (one process; run one ack server per roster)."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[str, float] = {}

    def first_use(self, nonce: str, now: float) -> bool:
        if len(self._seen) > 10_000:
            self._seen = {n: t for n, t in self._seen.items() if t > now - 2 * self.window}
        if nonce in self._seen and self._seen[nonce] > now - 2 * self.window:
            return False
        self._seen[nonce] = now
        return True


class SignedServer:
    """An aiohttp endpoint taking signed, fresh, single-use JSON requests (the acknowledgement server,
    the alarm intake ``starter/alarm_server.py``): ``start()`` binds (port 0 = any free port),
    ``close()`` stops; a subclass answers in ``serve``, raising :class:`BadRequest` to refuse.
    Every answer is JSON, never a stack trace."""

    NAME = "signed server"
    MAX_BODY = MAX_BODY
    WINDOW_ENV = "ACK_REPLAY_WINDOW_SECONDS"

    def __init__(self, client: Client, host: str, port: int, *, window: float | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.host = host
        self.port = port
        self.window = float(window if window is not None else os.environ.get(self.WINDOW_ENV, DEFAULT_WINDOW))
        self.clock = clock
        self.nonces = NonceCache(self.window)
        self._runner: web.AppRunner | None = None

    async def start(self) -> Self:
        from infra.codec_server import quiet_malformed_requests

        quiet_malformed_requests()
        app = web.Application(client_max_size=self.MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        log.info(f"{self.NAME} listening", host=self.host, port=self.port)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            status, body = await self.serve(request)
        except BadRequest as err:
            status, body = err.status, self.refused(err.status, err.reason)
        except web.HTTPRequestEntityTooLarge:
            status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            body = self.refused(status, f"body over {self.MAX_BODY} bytes")
        except Exception as err:  # never a stack trace to the caller
            log.error(f"{self.NAME} failed", error=type(err).__name__)
            status, body = HTTPStatus.INTERNAL_SERVER_ERROR, self.refused(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
        return web.json_response(body, status=status.value, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def serve(self, request: web.Request) -> tuple[HTTPStatus, dict]:
        raise NotImplementedError

    def refused(self, status: HTTPStatus, reason: str) -> dict[str, Any]:
        """The JSON body of a refusal."""
        return {"error": reason}

    def once(self, nonce: str, now: float, what: str) -> None:
        """A nonce is used once within the window (409 on a replay)."""
        if not self.nonces.first_use(nonce, now):
            log.warning(f"{what} refused: replay")
            raise BadRequest(HTTPStatus.CONFLICT, "nonce: already used (replay)")


class AckServer(SignedServer):
    """The acknowledgement endpoint (see the module docstring)."""

    NAME = "ack server"

    def __init__(
        self,
        client: Client,
        secrets: Mapping[str, bytes],
        routes: Callable[[str], set[str]],
        host: str = "127.0.0.1",
        port: int = 8090,
        *,
        window: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(client, host, port, window=window, clock=clock)
        self.secrets = dict(secrets)
        self.routes = routes

    async def serve(self, request: web.Request) -> tuple[HTTPStatus, dict]:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "GET" and parts == ["healthz"]:
            return HTTPStatus.OK, {"ok": True}
        if len(parts) != 2 or parts[0] != "ack" or not _CHANNEL.match(parts[1]):
            raise BadRequest(HTTPStatus.NOT_FOUND, "POST /ack/<channel>")
        if request.method != "POST":
            raise BadRequest(HTTPStatus.METHOD_NOT_ALLOWED, "POST only")
        channel = parts[1]
        secret = self.secrets.get(channel)
        if secret is None:
            raise BadRequest(HTTPStatus.NOT_FOUND, f"unknown channel {channel}")
        body = await request.read()
        now = self.clock()
        wf_id, key, route, nonce, by, at = parse_ack(body, now, self.window)
        if channel not in self.routes(route):
            log.warning("ack refused: route not on this channel", channel=channel)
            raise BadRequest(HTTPStatus.UNAUTHORIZED, "ack_key: this notification was not sent on this channel")
        if not verify(route_secret(secret, route), body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("ack refused: bad signature", channel=channel)
            raise BadRequest(HTTPStatus.UNAUTHORIZED, f"{SIGNATURE_HEADER}: missing or wrong signature")
        self.once(nonce, now, "ack")
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


def _config():
    from activities.channel_config import channel_secrets, load_channels
    from plan.agencies import DEFAULT_DIRECTORY_PATH, load_directory
    from plan.roster import load_roster

    path, roster_path = os.environ.get("EMERGENCY_CHANNELS"), os.environ.get("EMERGENCY_ROSTER")
    if not path or not roster_path:
        raise SystemExit("error: EMERGENCY_CHANNELS and EMERGENCY_ROSTER: set them to the channel configuration "
                         "and the roster (the secrets to verify, and which channel each route uses)")
    cfg = load_channels(path)
    directory = load_directory(os.environ.get("EMERGENCY_DIRECTORY") or DEFAULT_DIRECTORY_PATH)
    roster = load_roster(roster_path, directory=directory, channels={"outbox", *cfg.channels})
    return channel_secrets(cfg), route_channels(roster)


async def serve(stop: asyncio.Event | None = None) -> None:
    from infra.settings import connect

    secrets, routes = _config()
    client = await connect()
    host = os.environ.get("ACK_SERVER_HOST", "127.0.0.1")
    port = int(os.environ.get("ACK_SERVER_PORT", "8090"))
    await until_stopped(AckServer(client, secrets, routes, host, port), stop)


async def until_stopped(server: SignedServer, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set or the process gets SIGINT / SIGTERM."""
    import signal as _signal

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (_signal.SIGINT, _signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    from infra import logging as logs
    from infra.codec import CodecConfigError
    from plan.agencies import DirectoryError

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["route-secret"]:
        if len(argv) != 3:
            print("usage: python -m starter.ack_server route-secret <channel> <route id>", file=sys.stderr)
            return 2
        try:
            secrets, routes = _config()
        except DirectoryError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        channel, route = argv[1], argv[2]
        if channel not in secrets or channel not in routes(route):
            print(f"error: route {route} is not sent on channel {channel} (or the channel has no secret)", file=sys.stderr)
            return 2
        print(route_secret(secrets[channel], route).decode(), flush=True)  # os._exit below does not flush
        return 0
    logs.configure()
    try:
        asyncio.run(serve())
    except (DirectoryError, CodecConfigError) as err:
        log.error("configuration error", error=str(err))
        return 2
    except (RuntimeError, OSError) as err:
        log.error("ack server failed", error=str(err))
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    os._exit(code)  # no interpreter teardown: the SDK's runtime can abort there (sdk-python #300)

__all__ = ["AckServer", "encode_key", "route_secret", "route_channels"]
