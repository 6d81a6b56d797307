"""The codec server: authorised officers see decrypted payloads in the Web UI and the ``temporal`` CLI.

    python -m infra.codec_server                       # 127.0.0.1:8234, keys and tokens from the env

Built on aiohttp (as Temporal's own codec-server sample). It answers what the Web UI and the CLI
send: ``POST <any prefix>/decode`` and ``POST <any prefix>/encode`` (only the last path segment
counts, the query string such as the UI's ``?preserveStorageRefs=true`` is ignored), a body of
``{"payloads": [...]}`` (the protobuf JSON of ``temporal.api.common.v1.Payloads``), the
``X-Namespace`` header, ``Authorization: Bearer …``, and the browser's CORS preflight (``OPTIONS``).

Who may do what: **decode** and **encode** are separate permissions (the Web UI needs decode only;
``encode`` lets its holder mint valid ciphertext, i.e. start incidents through ``temporal workflow
start --codec-endpoint``). A request is authorised by one of

- a static token (``CODEC_SERVER_TOKENS_FILE`` / ``CODEC_SERVER_TOKENS``):
  ``{"<principal>": "<token>"}`` (decode only) or ``{"<principal>": {"token": "…", "permissions":
  ["decode", "encode"]}}``;
- an OIDC access token (production: the Web UI behind single sign-on with
  ``TEMPORAL_CODEC_PASS_ACCESS_TOKEN``): a JWT verified against ``CODEC_SERVER_OIDC_JWKS`` (a JWKS
  file or https URL), ``CODEC_SERVER_OIDC_ISSUER`` and ``CODEC_SERVER_OIDC_AUDIENCE``; its
  ``CODEC_SERVER_OIDC_CLAIM`` claim (default ``permissions``) must list ``codec:decode`` /
  ``codec:encode``;
- the embedded setup's per-session path (``./dev.sh up`` only): the dev UI has no login and cannot
  send a token, so its codec endpoint is ``http://127.0.0.1:8234/ui/<random session token>``;
  decode only, and only from an allowed UI origin. A process that merely spoofs ``Origin`` gets 401.

Bureaus (issue 17): with ``CODEC_SERVER_BUREAUS=huangyan,gongshu`` each bureau's namespace
(``config/bureaus/<id>.json``) is decoded with that bureau's keys only
(``EMERGENCY_CODEC_KEYS_FILE_<BUREAU>``, default ``var/bureaus/<id>/codec-keys.json``), and a token
may be bound to namespaces (``{"token": …, "namespaces": ["gongshu"]}``): one bureau's token cannot
decode another's payloads, and its keys could not either.

The namespace must be allowed (``CODEC_SERVER_NAMESPACES``, default ``default``, plus the bureaus'); CORS answers only
the Web UI's origin(s) (``CODEC_SERVER_CORS_ORIGINS``). Every request writes one audit line (who,
namespace, origin, how many payloads, which key ids, result), never payload content or a token.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import json
import logging
import os
import secrets
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from infra import logging as logs
from infra.codec import ENCODING, META_KEY_ID, CodecConfigError, EncryptionCodec, load_keyring

log = structlog.get_logger("codec_server")

DEFAULT_PORT = 8234
DEFAULT_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
MAX_BODY = 8 * 1024 * 1024
DECODE, ENCODE = "decode", "encode"
UI_PREFIX = "ui"


@dataclass(frozen=True)
class Principal:
    name: str
    permissions: frozenset[str]
    namespaces: frozenset[str] | None = None
    """The namespaces it may use (a bureau's officers: their bureau's only); None = every allowed one."""


def _principal(name: str, value: Any, source: str) -> tuple[str, Principal]:
    if isinstance(value, str):
        token, perms = value, [DECODE]
    elif isinstance(value, dict) and isinstance(value.get("token"), str):
        token, perms = value["token"], value.get("permissions", [DECODE])
    else:
        raise CodecConfigError(f'{source}: {name}: expected "<token>" or {{"token": …, "permissions": [...]}}')
    if len(token) < 16:
        raise CodecConfigError(f"{source}: {name}: token of 16+ characters required")
    if not isinstance(perms, list) or not perms or not set(perms) <= {DECODE, ENCODE}:
        raise CodecConfigError(f'{source}: {name}: permissions: a list of "decode", "encode"')
    spaces = value.get("namespaces") if isinstance(value, dict) else None
    if spaces is not None and (not isinstance(spaces, list) or not spaces or not all(isinstance(n, str) for n in spaces)):
        raise CodecConfigError(f"{source}: {name}: namespaces: a list of namespace names")
    return token, Principal(name, frozenset(perms), frozenset(spaces) if spaces is not None else None)


def load_tokens(environ: Mapping[str, str] | None = None) -> dict[str, Principal]:
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
    if not isinstance(doc, dict):
        raise CodecConfigError(f'{source}: expected {{"<principal>": "<token>"}}')
    return dict(_principal(name, value, source) for name, value in doc.items())


class OidcVerifier:
    """Verifies an OIDC access token (JWT, RS/ES/PS signatures) against a JWKS, issuer and audience."""

    ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]

    def __init__(self, jwks: str, issuer: str, audience: str, claim: str = "permissions") -> None:
        import jwt

        self.issuer, self.audience, self.claim = issuer, audience, claim
        if jwks.startswith("https://"):
            self._client: Any = jwt.PyJWKClient(jwks, cache_keys=True)
            self._keys = None
        elif jwks.startswith("http://"):
            raise CodecConfigError("CODEC_SERVER_OIDC_JWKS: https:// or a file")
        else:
            try:
                self._keys = jwt.PyJWKSet.from_json(Path(jwks).read_text(encoding="utf-8"))
            except (OSError, ValueError, jwt.PyJWTError) as err:
                raise CodecConfigError(f"CODEC_SERVER_OIDC_JWKS: cannot read a JWKS from {jwks}: {err}") from None
            self._client = None

    def verify(self, token: str) -> Principal | None:
        import jwt

        try:
            if self._client is not None:
                key = self._client.get_signing_key_from_jwt(token).key
            else:
                kid = jwt.get_unverified_header(token).get("kid")
                keys = self._keys.keys if self._keys is not None else []
                key = next(k.key for k in keys if kid is None or k.key_id == kid)
            claims = jwt.decode(token, key, algorithms=self.ALGORITHMS, audience=self.audience,
                                issuer=self.issuer, options={"require": ["exp", "iss", "aud", "sub"]})
        except (jwt.PyJWTError, StopIteration, ValueError):
            return None
        granted = claims.get(self.claim) or []
        if isinstance(granted, str):
            granted = granted.split()
        perms = frozenset(p.split(":", 1)[1] for p in granted if p in ("codec:decode", "codec:encode"))
        return Principal(f"oidc {claims['sub']}", perms)


class CodecService:
    """The codec, who may use it for what, for which namespaces, from which browser origins."""

    def __init__(
        self,
        codec: EncryptionCodec,
        tokens: Mapping[str, str | Principal],
        namespaces: set[str],
        origins: set[str],
        *,
        ui_session: str | None = None,
        oidc: OidcVerifier | None = None,
        namespace_codecs: Mapping[str, EncryptionCodec] | None = None,
    ) -> None:
        self.codec = codec
        self.namespace_codecs = dict(namespace_codecs or {})
        """A bureau's namespace -> its own codec (issue 17); other namespaces use ``codec``."""
        self.tokens = {t: p if isinstance(p, Principal) else Principal(p, frozenset({DECODE}))
                       for t, p in tokens.items()}
        self.namespaces = namespaces
        self.origins = origins
        self.ui_session = ui_session
        self.oidc = oidc

    def principal(self, authorization: str | None, session: str | None, origin: str | None) -> Principal | None:
        if session is not None:
            if (self.ui_session and hmac.compare_digest(session.encode(), self.ui_session.encode())
                    and origin in self.origins):
                return Principal(f"web-ui {origin}", frozenset({DECODE}))
            return None
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        given = authorization[7:].strip()
        for token, who in self.tokens.items():
            if hmac.compare_digest(given.encode(), token.encode()):
                return who
        if self.oidc is not None and given.count(".") == 2:
            return self.oidc.verify(given)
        return None


SERVICE = web.AppKey("service", CodecService)


def _cors(request: web.Request, service: CodecService) -> dict[str, str]:
    origin = request.headers.get("Origin")
    if not origin or origin not in service.origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": request.headers.get(
            "Access-Control-Request-Headers", "content-type, x-namespace, authorization"),
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def _reply(request: web.Request, status: int, body: dict[str, Any] | str) -> web.Response:
    service: CodecService = request.app[SERVICE]
    text = body if isinstance(body, str) else json.dumps(body)
    return web.Response(status=status, text=text, content_type="application/json",
                        headers={**_cors(request, service), "Cache-Control": "no-store"})


def _split(path: str) -> tuple[str | None, str]:
    """(UI session token or None, action) from a path such as ``/ui/<token>/decode`` or ``/decode``."""
    parts = [p for p in path.split("/") if p]
    action = parts[-1] if parts else ""
    session = parts[1] if len(parts) == 3 and parts[0] == UI_PREFIX else None
    return session, action


async def handle(request: web.Request) -> web.StreamResponse:
    service: CodecService = request.app[SERVICE]
    session, action = _split(request.path)
    if request.method == "GET" and action == "health":
        return _reply(request, 200, {"status": "ok"})
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":  # CORS preflight from the Web UI
        ok = origin in service.origins
        return web.Response(status=204 if ok else 403, headers=_cors(request, service))
    namespace = request.headers.get("X-Namespace")
    audit = log.bind(action=action, namespace=namespace, origin=origin, remote=request.remote,
                     path=request.path.split("/")[-1])
    if request.method != "POST" or action not in (DECODE, ENCODE):
        audit.warning("codec request refused", reason="not POST …/encode or …/decode", method=request.method)
        return _reply(request, 404, {"error": "not found: POST /encode or /decode"})
    if origin and origin not in service.origins:
        audit.warning("codec request refused", reason="origin not allowed")
        return _reply(request, 403, {"error": "origin not allowed"})
    principal = service.principal(request.headers.get("Authorization"), session, origin)
    if principal is None:
        audit.warning("codec request refused", reason="missing or unknown token")
        return _reply(request, 401, {"error": "Authorization: Bearer <token> required"})
    audit = audit.bind(principal=principal.name, officer=request.headers.get("X-Forwarded-User"))
    if action not in principal.permissions:
        audit.warning("codec request refused", reason=f"no {action} permission")
        return _reply(request, 403, {"error": f"{action}: not permitted for this principal"})
    if namespace not in service.namespaces:
        audit.warning("codec request refused", reason="namespace not allowed")
        return _reply(request, 403, {"error": "X-Namespace: namespace not allowed"})
    if principal.namespaces is not None and namespace not in principal.namespaces:
        audit.warning("codec request refused", reason="namespace not permitted for this principal")
        return _reply(request, 403, {"error": "X-Namespace: not permitted for this principal"})
    codec = service.namespace_codecs.get(namespace or "", service.codec)
    try:
        payloads = json_format.Parse(await request.read() or b"{}", Payloads())
    except web.HTTPRequestEntityTooLarge:
        audit.warning("codec request refused", reason="body too large")
        return _reply(request, 413, {"error": f"body larger than {MAX_BODY} bytes"})
    except (json_format.ParseError, UnicodeDecodeError):
        audit.warning("codec request refused", reason="body is not Payloads JSON")
        return _reply(request, 400, {"error": 'body: expected {"payloads": [...]}'})
    key_ids = sorted({p.metadata[META_KEY_ID].decode(errors="replace") for p in payloads.payloads
                      if p.metadata.get("encoding") == ENCODING and META_KEY_ID in p.metadata})
    try:
        if action == DECODE:
            out = [codec.decrypt(p) for p in payloads.payloads]
        else:
            out = [codec.encrypt(p) for p in payloads.payloads]
    except ValueError as err:
        audit.warning("codec " + action, payloads=len(payloads.payloads), key_ids=key_ids,
                      result="failed", reason=str(err))
        return _reply(request, 422, {"error": str(err)})
    audit.info("codec " + action, payloads=len(payloads.payloads), key_ids=key_ids, result="ok")
    return _reply(request, 200, json_format.MessageToJson(Payloads(payloads=out)))


class _MalformedRequestsInOneLine(logging.Filter):
    """aiohttp answers a malformed request (a bad ``Content-Length``) with 400 itself, and logs the
    parser's traceback: make that one warning line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        err = record.exc_info[1] if record.exc_info else None
        if isinstance(err, HttpProcessingError):
            record.msg, record.args, record.exc_info, record.exc_text = (
                "malformed HTTP request refused: %s %s", (err.code, type(err).__name__), None, None)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_malformed_requests() -> None:
    """Install the one-line filter on aiohttp's server logger (the codec and acknowledgement servers)."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _MalformedRequestsInOneLine) for f in server_log.filters):
        server_log.addFilter(_MalformedRequestsInOneLine())


def build_app(service: CodecService) -> web.Application:
    quiet_malformed_requests()
    app = web.Application(client_max_size=MAX_BODY)
    app[SERVICE] = service
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


class ThreadServer:
    """An aiohttp app on its own event loop and daemon thread (the embedded setup and tests)."""

    def __init__(self, app: web.Application, host: str, port: int, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1)
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._runner.setup())
                site = web.TCPSite(self._runner, host, port)
                self._loop.run_until_complete(site.start())
                self.port = self._runner.addresses[0][1]
            except BaseException as err:  # the port is taken, say
                failure.append(err)
                started.set()
                return
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()
        started.wait(30)
        if failure:
            raise RuntimeError(f"{name}: cannot listen on {host}:{port}: {failure[0]}")

    def shutdown(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def server_close(self) -> None:  # the http.server name, kept for callers
        self.shutdown()


def serve_in_thread(host: str, port: int, service: CodecService) -> ThreadServer:
    """Start the codec server on a daemon thread; ``.shutdown()`` stops it."""
    return ThreadServer(build_app(service), host, port, "codec-server")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def bureau_codecs(environ: Mapping[str, str] | None = None) -> dict[str, EncryptionCodec]:
    """``CODEC_SERVER_BUREAUS``: each bureau's namespace -> a codec with that bureau's keys only."""
    from infra.codec import require_bureau_keyring
    from plan.bureaus import load_profile, profile_path

    env = os.environ if environ is None else environ
    out: dict[str, EncryptionCodec] = {}
    for b in (x.strip() for x in env.get("CODEC_SERVER_BUREAUS", "").split(",")):
        if not b:
            continue
        ring = require_bureau_keyring(b, env)
        if ring is None:
            raise CodecConfigError(f"CODEC_SERVER_BUREAUS: {b}: no keys (nothing to decode)")
        out[load_profile(profile_path(b)).namespace] = EncryptionCodec(ring)
    return out


def service_from_env(*, ui_session: str | None = None, host: str = "127.0.0.1") -> CodecService:
    per_bureau = bureau_codecs()
    keyring = load_keyring()
    if keyring is None and not per_bureau:
        raise CodecConfigError("EMERGENCY_CODEC_KEYS_FILE or EMERGENCY_CODEC_KEYS: required (no keys, nothing to decode)")
    tokens = load_tokens()
    if ui_session and not _is_loopback(host):
        raise CodecConfigError("the dev UI's session path: only on a loopback address (the embedded setup)")
    oidc = None
    if os.environ.get("CODEC_SERVER_OIDC_JWKS"):
        issuer, audience = os.environ.get("CODEC_SERVER_OIDC_ISSUER"), os.environ.get("CODEC_SERVER_OIDC_AUDIENCE")
        if not issuer or not audience:
            raise CodecConfigError("CODEC_SERVER_OIDC_ISSUER and CODEC_SERVER_OIDC_AUDIENCE: required with CODEC_SERVER_OIDC_JWKS")
        oidc = OidcVerifier(os.environ["CODEC_SERVER_OIDC_JWKS"], issuer, audience,
                            os.environ.get("CODEC_SERVER_OIDC_CLAIM", "permissions"))
    if not tokens and not ui_session and oidc is None:
        raise CodecConfigError("CODEC_SERVER_TOKENS_FILE, CODEC_SERVER_TOKENS or CODEC_SERVER_OIDC_JWKS: required (who may decode)")
    namespaces = {n.strip() for n in os.environ.get("CODEC_SERVER_NAMESPACES", "default").split(",") if n.strip()}
    namespaces |= set(per_bureau)
    origins = {o.strip().rstrip("/") for o in
               os.environ.get("CODEC_SERVER_CORS_ORIGINS", ",".join(DEFAULT_ORIGINS)).split(",") if o.strip()}
    if keyring is None:  # bureaus only: any other namespace has nothing to decode with
        namespaces -= {"default"} - set(per_bureau)
        default_codec = next(iter(per_bureau.values()))
    else:
        default_codec = EncryptionCodec(keyring)
    return CodecService(default_codec, tokens, namespaces, origins, ui_session=ui_session, oidc=oidc,
                        namespace_codecs=per_bureau)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


class EmbeddedCodec:
    """Encryption for the embedded setup (``./dev.sh up``): on by default.

    Unless keys are configured already, a key file ``var/codec-keys.json`` (one AES-256-GCM key, mode
    0600) is created on first start; every process of the project finds it there
    (``infra.codec.DEFAULT_KEYS_FILE``). A token for the ``temporal`` CLI (decode and encode) is kept
    in ``var/codec-token`` (mode 0600). The dev UI, which has no login, decodes through a per-session
    path (a new random token each start, never written to disk).
    """

    def __init__(self, var: Path, port: int, ui_origins: list[str], bureaus: list[str] | None = None) -> None:
        from infra.codec import ENV_KEYS, ENV_KEYS_FILE, add_key, bureau_keys_env, bureau_keys_file

        if not (os.environ.get(ENV_KEYS) or os.environ.get(ENV_KEYS_FILE)):
            keys = var / "codec-keys.json"
            if not keys.exists():
                add_key(keys)
            os.environ[ENV_KEYS_FILE] = str(keys)
        token_file = var / "codec-token"
        if not token_file.exists():
            _write_private(token_file, secrets.token_urlsafe(32))
        self.token = token_file.read_text().strip()
        principals: dict[str, Any] = {"duty-officer-cli": {"token": self.token, "permissions": [DECODE, ENCODE]}}
        self.bureau_tokens: dict[str, Path] = {}
        """Each bureau's own CLI token (``var/bureaus/<id>/codec-token``): its namespace only (issue 17)."""
        if bureaus:
            from plan.bureaus import load_profile, profile_path

            for b in bureaus:
                keys = bureau_keys_file(b)
                if not os.environ.get(bureau_keys_env(b)):
                    keys.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                    if not keys.exists():
                        add_key(keys)
                    os.environ[bureau_keys_env(b)] = str(keys)
                tfile = keys.parent / "codec-token"
                if not tfile.exists():
                    _write_private(tfile, secrets.token_urlsafe(32))
                self.bureau_tokens[b] = tfile
                principals[f"duty-officer-cli-{b}"] = {
                    "token": tfile.read_text().strip(), "permissions": [DECODE, ENCODE],
                    "namespaces": [load_profile(profile_path(b)).namespace]}
            os.environ.setdefault("CODEC_SERVER_BUREAUS", ",".join(bureaus))
            principals["duty-officer-cli"]["namespaces"] = ["default"]
        os.environ.setdefault("CODEC_SERVER_TOKENS", json.dumps(principals))
        os.environ.setdefault("CODEC_SERVER_CORS_ORIGINS", ",".join(ui_origins))
        session = secrets.token_urlsafe(24)
        self.server = serve_in_thread("127.0.0.1", port, service_from_env(ui_session=session))
        self.endpoint = f"http://127.0.0.1:{self.server.port}"
        self.ui_endpoint = f"{self.endpoint}/{UI_PREFIX}/{session}"

    def stop(self) -> None:
        self.server.shutdown()


async def _serve(host: str, port: int, service: CodecService) -> None:
    runner = web.AppRunner(build_app(service), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("codec server started", address=f"http://{host}:{port}", namespaces=sorted(service.namespaces),
             origins=sorted(service.origins), principals=sorted({p.name for p in service.tokens.values()}),
             oidc=service.oidc is not None)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    p = argparse.ArgumentParser(prog="python -m infra.codec_server", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=os.environ.get("CODEC_SERVER_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CODEC_SERVER_PORT", DEFAULT_PORT)))
    args = p.parse_args(argv)
    try:
        service = service_from_env(host=args.host)
    except CodecConfigError as err:
        log.error("configuration error", error=str(err))
        return 2
    try:
        asyncio.run(_serve(args.host, args.port, service))
    except KeyboardInterrupt:
        pass
    except OSError as err:
        log.error("codec server failed", error=str(err))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
