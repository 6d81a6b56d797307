"""Real local receivers on loopback for the channel tests: an HTTP receiver (webhook / SMS gateway)
and an SMTP server (aiosmtpd) with STARTTLS or implicit TLS and a login."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class HttpReceiver:
    """Records every request; honours ``Idempotency-Key`` (a repeat is answered, not delivered again).

    ``status`` decides the answer to each request (default 200): e.g. ``lambda r, n: 503 if n < 2 else 200``
    where ``n`` is how many requests came before it."""

    status: Callable[[Request, int], int] = lambda r, n: 200
    requests: list[Request] = field(default_factory=list)
    delivered: dict[str, Request] = field(default_factory=dict)
    """Key → the request that delivered it: what the agency actually received, once per key."""
    port: int = 0

    async def __aenter__(self) -> HttpReceiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await reader.readuntil(b"\r\n")).decode().strip()
            method, target, _ = line.split(" ", 2)
            headers = {}
            while (h := (await reader.readuntil(b"\r\n")).decode()) != "\r\n":
                k, _, v = h.partition(":")
                headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            req = Request(method, target, headers, body)
            status = self.status(req, len(self.requests))
            self.requests.append(req)
            duplicate = False
            if 200 <= status < 300:
                if req.key in self.delivered:
                    duplicate = True
                else:
                    self.delivered[req.key or f"no-key-{len(self.requests)}"] = req
            payload = json.dumps({"duplicate": duplicate}).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                f"Connection: close\r\n\r\n".encode() + payload
            )
            await writer.drain()
        finally:
            writer.close()


def self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


class SmtpReceiver:
    """aiosmtpd on loopback: ``security`` is ``starttls`` or ``tls``; login ``user`` / ``secret``."""

    USER, PASSWORD = "yingji@sfj.example.invalid", "smtp-test-password"

    def __init__(self, tmp: Path, security: str = "starttls") -> None:
        self.cert, key = self_signed(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        self.inbox = _Inbox()

        def auth(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login.decode() == self.USER and data.password.decode() == self.PASSWORD
            return AuthResult(success=ok)

        kwargs = dict(hostname="127.0.0.1", port=_free_port(), authenticator=auth, auth_required=True)
        if security == "tls":
            # implicit TLS: the whole session is encrypted, aiosmtpd just does not know it
            self.controller = Controller(self.inbox, ssl_context=ctx, auth_require_tls=False, **kwargs)
        else:
            self.controller = Controller(self.inbox, tls_context=ctx, require_starttls=True, **kwargs)

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def messages(self) -> list:
        return self.inbox.messages

    def by_message_id(self) -> dict[str, list]:
        out: dict[str, list] = {}
        for rcpt, msg in self.messages:
            out.setdefault(msg["Message-ID"], []).append((rcpt, msg))
        return out


ROOT = Path(__file__).resolve().parent.parent


def write_sample_config(
    tmp: Path,
    secrets: dict[str, str],
    *,
    alarm: str,
    centre: str,
    sms: str,
    smtp_port: int,
    smtp_ca: Path | None = None,
    roster: Callable[[dict], None] | None = None,
) -> None:
    """The shipped sample configuration (``config/channels.example.json``, ``config/roster.json``) with
    every channel pointed at local receivers: 110/120 at ``alarm`` (``/notify/110``, ``/notify/120``), the
    centre's platform at ``centre``, SMS at ``sms``, e-mail at ``127.0.0.1:smtp_port``. Writes
    ``tmp/channels.json`` and ``tmp/roster.json``."""
    cfg = json.loads((ROOT / "config/channels.example.json").read_text(encoding="utf-8"))
    ch = cfg["channels"]
    for name, secret in secrets.items():
        ch[name].pop("secret_env"), ch[name].update(secret=secret)
    ch["centre-webhook"]["url"] = centre + "/api/v1/notifications"
    ch["alarm-gateway"]["url"] = alarm + "/notify"
    ch["sms"]["url_template"] = sms + "/v2/send"
    ch["sms"].pop("password_env"), ch["sms"].update(password="sms-password")
    ch["email"].pop("password_env")
    ch["email"].update(host="127.0.0.1", port=smtp_port, password=SmtpReceiver.PASSWORD)
    if smtp_ca is not None:
        ch["email"].update(ca_file=str(smtp_ca))
    data = json.loads((ROOT / "config/roster.json").read_text(encoding="utf-8"))
    for a in ("police_110", "medical_120"):
        data["agencies"][a]["contacts"][0]["address"] = alarm + "/notify/" + a[-3:]
    if roster:
        roster(data)
    (tmp / "channels.json").write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
    (tmp / "roster.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
