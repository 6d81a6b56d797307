"""The codec server: authorised officers see decrypted payloads in the Web UI and the ``temporal`` CLI.

    python -m infra.codec_server                       # 127.0.0.1:8234, keys and tokens from the env

``POST /decode`` and ``POST /encode`` take and return ``{"payloads": [...]}`` (the protobuf JSON of
``temporal.api.common.v1.Payloads``), which is what the Web UI and the CLI send. Each request must:

- carry ``Authorization: Bearer <token>`` for a token in ``CODEC_SERVER_TOKENS_FILE`` (JSON
  ``{"<officer or service>": "<token>"}``, mode 0600) or ``CODEC_SERVER_TOKENS`` (same JSON inline);
- name an allowed namespace in ``X-Namespace`` (``CODEC_SERVER_NAMESPACES``, default ``default``).

CORS answers only the Web UI's origin(s) (``CODEC_SERVER_CORS_ORIGINS``, default
``http://localhost:8233,http://127.0.0.1:8233``, the dev server's UI). Every decode writes one audit
line (who, namespace, origin, how many payloads, which key ids, result) and never payload content.

The dev server's UI has no login and so cannot send a token. ``--ui-without-token`` (loopback only)
lets requests from an allowed UI origin decode without one; the audit line then names the origin.
Production puts the UI behind single sign-on and sets ``TEMPORAL_CODEC_PASS_ACCESS_TOKEN`` so the UI
forwards the officer's token (see docs/operations.md).

CLI recipe (the CLI reads ``TEMPORAL_CODEC_ENDPOINT`` / ``TEMPORAL_CODEC_AUTH`` too)::

    temporal workflow show -w WF --codec-endpoint http://127.0.0.1:8234 \\
        --codec-auth "Bearer $TOKEN" --codec-header X-Namespace=default
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import structlog
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from infra import logging as logs
from infra.codec import ENCODING, META_KEY_ID, CodecConfigError, EncryptionCodec, load_keyring

log = structlog.get_logger("codec_server")

DEFAULT_PORT = 8234
DEFAULT_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
MAX_BODY = 8 * 1024 * 1024


def load_tokens(environ: dict[str, str] | None = None) -> dict[str, str]:
    """token -> principal, from ``CODEC_SERVER_TOKENS`` or ``CODEC_SERVER_TOKENS_FILE``."""
    env = os.environ if environ is None else environ
    text = env.get("CODEC_SERVER_TOKENS")
    source = "CODEC_SERVER_TOKENS"
    if not text and env.get("CODEC_SERVER_TOKENS_FILE"):
        source = env["CODEC_SERVER_TOKENS_FILE"]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as err:
            raise CodecConfigError(f"CODEC_SERVER_TOKENS_FILE: {err.strerror}: {source}") from None
    if not text:
        return {}
    try:
        doc = json.loads(text)
    except ValueError:
        raise CodecConfigError(f"{source}: not valid JSON") from None
    if not isinstance(doc, dict) or not all(isinstance(v, str) and len(v) >= 16 for v in doc.values()):
        raise CodecConfigError(f'{source}: expected {{"<principal>": "<token of 16+ characters>"}}')
    return {token: principal for principal, token in doc.items()}


class CodecService:
    """What the HTTP handler needs: the codec, who may use it, for which namespaces, from which origin."""

    def __init__(
        self,
        codec: EncryptionCodec,
        tokens: dict[str, str],
        namespaces: set[str],
        origins: set[str],
        *,
        ui_without_token: bool = False,
    ) -> None:
        self.codec = codec
        self.tokens = tokens
        self.namespaces = namespaces
        self.origins = origins
        self.ui_without_token = ui_without_token

    def principal(self, authorization: str | None, origin: str | None) -> str | None:
        if authorization and authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
            for token, who in self.tokens.items():
                if hmac.compare_digest(given.encode(), token.encode()):
                    return who
            return None
        if self.ui_without_token and origin in self.origins:
            return f"web-ui {origin}"
        return None


class Handler(BaseHTTPRequestHandler):
    service: CodecService
    server_version = "judicial-emergency-codec/1"

    def log_message(self, format: str, *args: Any) -> None:  # the audit log replaces the access log
        pass

    def _cors(self) -> None:
        origin = self.headers.get("Origin")
        if origin and origin in self.service.origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "content-type, x-namespace, authorization")
            self.send_header("Vary", "Origin")

    def _reply(self, code: int, body: dict[str, Any] | str) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(code)
        self._cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self) -> None:  # CORS preflight from the Web UI
        origin = self.headers.get("Origin")
        self.send_response(204 if origin in self.service.origins else 403)
        self._cors()
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(200, {"status": "ok"})
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        action = self.path.rstrip("/").rsplit("/", 1)[-1]
        if action not in ("encode", "decode"):
            self._reply(404, {"error": "not found: POST /encode or /decode"})
            return
        origin = self.headers.get("Origin")
        namespace = self.headers.get("X-Namespace")
        audit = log.bind(action=action, namespace=namespace, origin=origin, remote=self.client_address[0])
        if origin and origin not in self.service.origins:
            audit.warning("codec request refused", reason="origin not allowed")
            self._reply(403, {"error": "origin not allowed"})
            return
        principal = self.service.principal(self.headers.get("Authorization"), origin)
        if principal is None:
            audit.warning("codec request refused", reason="missing or unknown token")
            self._reply(401, {"error": "Authorization: Bearer <token> required"})
            return
        # Behind the single-sign-on proxy (one token for the proxy), the officer it authenticated.
        audit = audit.bind(principal=principal, officer=self.headers.get("X-Forwarded-User"))
        if namespace not in self.service.namespaces:
            audit.warning("codec request refused", reason="namespace not allowed")
            self._reply(403, {"error": "X-Namespace: namespace not allowed"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            audit.warning("codec request refused", reason="body too large", bytes=length)
            self._reply(413, {"error": f"body larger than {MAX_BODY} bytes"})
            return
        try:
            payloads = json_format.Parse(self.rfile.read(length) or b"{}", Payloads())
        except json_format.ParseError:
            audit.warning("codec request refused", reason="body is not Payloads JSON")
            self._reply(400, {"error": 'body: expected {"payloads": [...]}'})
            return
        key_ids = sorted({p.metadata[META_KEY_ID].decode(errors="replace") for p in payloads.payloads
                          if p.metadata.get("encoding") == ENCODING and META_KEY_ID in p.metadata})
        try:
            if action == "decode":
                out = [self.service.codec.decrypt(p) for p in payloads.payloads]
            else:
                out = [self.service.codec.encrypt(p) for p in payloads.payloads]
        except ValueError as err:
            audit.warning("codec " + action, payloads=len(payloads.payloads), key_ids=key_ids,
                          result="failed", reason=str(err))
            self._reply(422, {"error": str(err)})
            return
        audit.info("codec " + action, payloads=len(payloads.payloads), key_ids=key_ids, result="ok")
        self._reply(200, json_format.MessageToJson(Payloads(payloads=out)))


def build_server(host: str, port: int, service: CodecService) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"service": service})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def service_from_env(*, ui_without_token: bool = False, host: str = "127.0.0.1") -> CodecService:
    keyring = load_keyring()
    if keyring is None:
        raise CodecConfigError("EMERGENCY_CODEC_KEYS_FILE or EMERGENCY_CODEC_KEYS: required (no keys, nothing to decode)")
    tokens = load_tokens()
    if ui_without_token and not _is_loopback(host):
        raise CodecConfigError("--ui-without-token: only on a loopback address (the embedded setup)")
    if not tokens and not ui_without_token:
        raise CodecConfigError("CODEC_SERVER_TOKENS_FILE or CODEC_SERVER_TOKENS: required (who may decode)")
    namespaces = {n.strip() for n in os.environ.get("CODEC_SERVER_NAMESPACES", "default").split(",") if n.strip()}
    origins = {o.strip().rstrip("/") for o in
               os.environ.get("CODEC_SERVER_CORS_ORIGINS", ",".join(DEFAULT_ORIGINS)).split(",") if o.strip()}
    return CodecService(EncryptionCodec(keyring), tokens, namespaces, origins, ui_without_token=ui_without_token)


def serve_in_thread(host: str, port: int, service: CodecService) -> ThreadingHTTPServer:
    """Start the codec server on a daemon thread (the embedded setup and tests); ``.shutdown()`` stops it."""
    server = build_server(host, port, service)
    threading.Thread(target=server.serve_forever, name="codec-server", daemon=True).start()
    return server


class EmbeddedCodec:
    """Encryption for the embedded setup (``./dev.sh up``): on by default.

    Unless keys are configured already, a key file ``var/codec-keys.json`` (one AES-256-GCM key, mode
    0600) is created on first start and ``EMERGENCY_CODEC_KEYS_FILE`` points at it for this process
    (worker, sample start). A token for the CLI is kept in ``var/codec-token`` (mode 0600). The codec
    server runs on a thread on 127.0.0.1; the dev UI (no login) decodes without a token.
    """

    def __init__(self, var: Path, port: int, ui_origins: list[str]) -> None:
        from infra.codec import ENV_KEYS, ENV_KEYS_FILE, add_key

        if not (os.environ.get(ENV_KEYS) or os.environ.get(ENV_KEYS_FILE)):
            keys = var / "codec-keys.json"
            if not keys.exists():
                add_key(keys)
            os.environ[ENV_KEYS_FILE] = str(keys)
        token_file = var / "codec-token"
        if not token_file.exists():
            import secrets

            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
        self.token = token_file.read_text().strip()
        os.environ.setdefault("CODEC_SERVER_TOKENS", json.dumps({"duty-officer-cli": self.token}))
        os.environ.setdefault("CODEC_SERVER_CORS_ORIGINS", ",".join(ui_origins))
        self.endpoint = f"http://127.0.0.1:{port}"
        self.server = serve_in_thread("127.0.0.1", port, service_from_env(ui_without_token=True))

    def cli_env(self) -> str:
        """The line an operator pastes so the ``temporal`` CLI shows decrypted payloads."""
        return (f"export TEMPORAL_CODEC_ENDPOINT={self.endpoint} "
                f"TEMPORAL_CODEC_AUTH=\"Bearer $(cat var/codec-token)\"")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    p = argparse.ArgumentParser(prog="python -m infra.codec_server", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=os.environ.get("CODEC_SERVER_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CODEC_SERVER_PORT", DEFAULT_PORT)))
    p.add_argument("--ui-without-token", action="store_true",
                   help="embedded setup only (loopback): the dev UI, which has no login, may decode without a token")
    args = p.parse_args(argv)
    try:
        service = service_from_env(ui_without_token=args.ui_without_token, host=args.host)
    except CodecConfigError as err:
        log.error("configuration error", error=str(err))
        return 2
    server = build_server(args.host, args.port, service)
    log.info("codec server started", address=f"http://{args.host}:{args.port}", namespaces=sorted(service.namespaces),
             origins=sorted(service.origins), principals=sorted(set(service.tokens.values())),
             ui_without_token=args.ui_without_token)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
