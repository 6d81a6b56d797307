"""Issue 14, tried as an attacker would, on a real dev server, real HTTP and real processes: every
door refuses to write personal data in plain text; ids carry no personal data; the outbox is sealed;
the codec server gives each party only what it needs; channels use TLS; compose has no default
password. (Acknowledgement forgery: tests/test_ack_server.py; the scan: tests/test_pii_scan.py.)"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from helpers import ROOT, example
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from activities.channels import Delivery, OutboxChannel, read_outbox
from activities.contracts import NotifyRequest
from devstack import DevServer, free_port
from infra.codec import AES_256_GCM, CodecConfigError, EncryptionCodec, add_key, load_keyring
from infra.codec_server import CodecService, serve_in_thread
from infra.settings import connect, data_converter
from starter.api import IncidentClient, InvalidInput

pytestmark = pytest.mark.devserver
PII = ("李明轩", "33100319900101123X", "13700000002")


def user_env(**extra: str) -> dict[str, str]:
    """An operator's shell: none of the test's variables (no keys, no insecure choice)."""
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8", **extra}


@dataclass
class Cluster:
    address: str
    queue: str
    keys: Path
    tmp: Path
    client: Client  # with the keys
    plain: Client  # without: what a misconfigured starter or `temporal workflow start` sends

    def env(self, **extra: str) -> dict[str, str]:
        return user_env(TEMPORAL_ADDRESS=self.address, TEMPORAL_TASK_QUEUE=self.queue,
                        EMERGENCY_CODEC_KEYS_FILE=str(self.keys), EMERGENCY_VAR_DIR=str(self.tmp), **extra)


@pytest_asyncio.fixture(scope="module")
async def cluster(tmp_path_factory) -> AsyncIterator[Cluster]:
    tmp = tmp_path_factory.mktemp("security")
    keys = tmp / "codec-keys.json"
    add_key(keys, AES_256_GCM)
    server = DevServer(port=free_port(), ui_port=None, db_file=tmp / "temporal.db").start()
    queue = "security-" + uuid.uuid4().hex[:6]
    c = Cluster(server.address, queue, keys, tmp,
                await connect(target_host=server.address, data_converter=data_converter({"EMERGENCY_CODEC_KEYS_FILE": str(keys)})),
                await Client.connect(server.address, data_converter=pydantic_data_converter))
    log = open(tmp / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              env=c.env(EMERGENCY_OUTBOX=str(tmp / "outbox.jsonl"), LOG_FORMAT="json",
                                        EMERGENCY_DRILL_OUTBOX=str(tmp / "drill.jsonl")))
    try:
        yield c
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
        server.stop()


def run(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=90)


async def failure_of(client: Client, wf: str) -> ApplicationError:
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(client.get_workflow_handle(wf).result(), 30)
    assert isinstance(err.value.cause, ApplicationError)
    return err.value.cause


# ------------------------------------------------------------------ encrypted by default, fail closed


async def test_starter_worker_sdk_and_bench_refuse_to_start_without_keys(cluster: Cluster, tmp_path, monkeypatch):
    """Attack: `env -u EMERGENCY_CODEC_KEYS_FILE python -m starter start f.json` wrote the incident in
    plain text. Now every process refuses, naming what to set; nothing reaches Temporal."""
    no_keys = user_env(TEMPORAL_ADDRESS=cluster.address, EMERGENCY_VAR_DIR=str(tmp_path))
    alert = f"NOKEY-{uuid.uuid4().hex[:6]}"
    (tmp_path / "f.json").write_text(json.dumps(example("C4", alert_id=alert), ensure_ascii=False), encoding="utf-8")
    for name, argv in {
        "starter": [sys.executable, "-m", "starter", "start", str(tmp_path / "f.json")],
        "worker": [sys.executable, "worker.py"],
        "bench": [sys.executable, "-m", "bench", "--quick"],
    }.items():
        res = run(argv, no_keys)
        assert res.returncode == 2, (name, res.stdout, res.stderr)
        assert "EMERGENCY_CODEC_KEYS_FILE" in res.stderr and "EMERGENCY_INSECURE_PLAINTEXT=1" in res.stderr, name
        assert "Traceback" not in res.stderr, name
    assert [w async for w in cluster.client.list_workflows(f"WorkflowId = 'incident-C4-{alert}'")] == []
    # the SDK door
    monkeypatch.delenv("EMERGENCY_INSECURE_PLAINTEXT", raising=False)
    monkeypatch.delenv("EMERGENCY_CODEC_KEYS_FILE", raising=False)
    monkeypatch.setenv("EMERGENCY_VAR_DIR", str(tmp_path))
    with pytest.raises(CodecConfigError, match="no payload encryption keys"):
        await IncidentClient.connect(target_host=cluster.address)
    # plain text only by explicit choice, with a warning
    res = run([sys.executable, "-m", "starter", "status", "incident-C4-X"],
              {**no_keys, "EMERGENCY_INSECURE_PLAINTEXT": "1", "TEMPORAL_ADDRESS": "127.0.0.1:9"})
    assert "WARNING: EMERGENCY_INSECURE_PLAINTEXT=1: payloads (personal data) are NOT encrypted" in res.stderr
    assert res.returncode == 1 and "cannot reach Temporal at 127.0.0.1:9" in res.stderr and "Traceback" not in res.stderr


async def test_the_worker_refuses_an_unencrypted_start_at_once(cluster: Cluster):
    """Attack: a starter without keys; the encrypting worker processed the plain-text incident."""
    wf = f"incident-C4-PLAIN-{uuid.uuid4().hex[:6]}"
    await cluster.plain.start_workflow("C4AbscondFromSupervision", example("C4"), id=wf, task_queue=cluster.queue,
                                       execution_timeout=timedelta(minutes=5))
    cause = await failure_of(cluster.client, wf)
    assert cause.type == "UnencryptedPayload" and cause.non_retryable
    assert "TEMPORAL_CODEC_ENDPOINT" in cause.message
    history = await cluster.client.get_workflow_handle(wf).fetch_history()
    assert not any(e.HasField("activity_task_scheduled_event_attributes") for e in history.events)  # nobody notified
    assert not any(e.HasField("workflow_task_failed_event_attributes") for e in history.events)  # no retry loop
    # the `temporal` CLI without the codec endpoint: the same
    wf2 = f"incident-C4-CLI-{uuid.uuid4().hex[:6]}"
    res = run(["temporal", "workflow", "start", "--address", cluster.address, "--type", "C4AbscondFromSupervision",
               "--task-queue", cluster.queue, "--workflow-id", wf2, "--input", json.dumps(example("C4"), ensure_ascii=False)],
              user_env())
    assert res.returncode == 0, res.stderr
    assert (await failure_of(cluster.client, wf2)).type == "UnencryptedPayload"


async def test_the_worker_refuses_an_unencrypted_report(cluster: Cluster):
    api = IncidentClient(cluster.client, cluster.queue)
    wf = (await api.start(example("C4", alert_id=f"RPT-{uuid.uuid4().hex[:6]}"))).workflow_id
    plain = cluster.plain.get_workflow_handle(wf)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await plain.execute_update("submit_report", {"kind": "arrived", "actor": "东城司法所 值班员"})
    assert isinstance(err.value.cause, ApplicationError) and err.value.cause.type == "UnencryptedPayload"
    st = await api.status(wf)
    assert "arrived" in st.waiting_for  # the plain report was not taken
    await plain.signal("report", {"kind": "arrived", "actor": "东城司法所 值班员"})
    await api.report(wf, {"kind": "progress", "actor": "东城司法所", "current_situation": "查找中"})  # encrypted: taken
    st = await api.status(wf)
    assert "arrived" in st.waiting_for  # the plain signal was dropped, not processed
    await cluster.client.get_workflow_handle(wf).terminate("test done")


# ------------------------------------------------------------------ ids carry no personal data


async def test_ids_with_personal_data_are_refused_on_every_door(cluster: Cluster, tmp_path):
    """Attack: `--id incident-C4-李明轩-33100319900101123X` was accepted and listed."""
    bad_id = "incident-C4-李明轩-33100319900101123X"
    (tmp_path / "f.json").write_text(json.dumps(example("C4", alert_id=None), ensure_ascii=False), encoding="utf-8")
    res = run([sys.executable, "-m", "starter", "start", str(tmp_path / "f.json"), "--id", bad_id], cluster.env())
    assert res.returncode == 2 and "invalid workflow id" in res.stderr and "Traceback" not in res.stderr
    assert not any(p in res.stderr for p in PII)
    api = IncidentClient(cluster.client, cluster.queue)
    for alert in ("33100319900101123X", "C4-13700000002", "0576-84110001"):
        with pytest.raises(InvalidInput, match="alert_id"):
            await api.start(example("C4", alert_id=alert))
    with pytest.raises(InvalidInput, match="value of a person"):
        await api.start(example("C4"), workflow_id="incident-C4-李明轩")
    # the `temporal` CLI door (through the codec: encrypted): the worker fails the run at once
    for wf in ("incident-C4-13700000002", "incident-C4-李秀英"):
        await cluster.client.start_workflow("C4AbscondFromSupervision", example("C4"), id=wf, task_queue=cluster.queue)
        cause = await failure_of(cluster.client, wf)
        assert cause.type == "PersonalDataInId" and cause.non_retryable and "李" not in cause.message
    # what is allowed: the centre's alert numbers, Chinese office names
    ok = await api.start(example("C4", alert_id=f"HY-20261201-{uuid.uuid4().hex[:4]}"))
    await cluster.client.get_workflow_handle(ok.workflow_id).terminate("test done")


# ------------------------------------------------------------------ the outbox at rest


async def test_outbox_is_created_0600_and_its_messages_are_sealed(tmp_path):
    keys = tmp_path / "k.json"
    add_key(keys)
    codec = EncryptionCodec(load_keyring({"EMERGENCY_CODEC_KEYS_FILE": str(keys)}))
    box = OutboxChannel(tmp_path / "outbox.jsonl", codec=codec)
    req = NotifyRequest(workflow_id="incident-C4-T1", incident_type="C4", step="information-report", clause="000 §4.2",
                        recipient="command_centre", message_zh="社区矫正对象李明轩(33100319900101123X)下落不明",
                        idempotency_key="incident-C4-T1/information-report/command_centre")
    await box.deliver(Delivery(req, "区社会应急联动指挥中心", "0576-84000009", "2026-12-01T08:00:00+00:00"))
    raw = (tmp_path / "outbox.jsonl").read_bytes()
    assert oct((tmp_path / "outbox.jsonl").stat().st_mode & 0o777) == "0o600"
    assert not any(p.encode() in raw for p in PII) and b"0576-84000009" not in raw
    [line] = read_outbox(tmp_path / "outbox.jsonl", codec)
    assert "李明轩" in line["message_zh"] and line["recipient_phone"] == "0576-84000009"
    res = run([sys.executable, "-m", "activities.outbox", "read", str(tmp_path / "outbox.jsonl")],
              user_env(EMERGENCY_CODEC_KEYS_FILE=str(keys)))
    assert res.returncode == 0 and "李明轩" in res.stdout
    res = run([sys.executable, "-m", "activities.outbox", "read", str(tmp_path / "outbox.jsonl")],
              user_env(EMERGENCY_VAR_DIR=str(tmp_path / "none")))
    assert res.returncode == 2 and "no keys" in res.stderr and "Traceback" not in res.stderr


# ------------------------------------------------------------------ the codec server


def http(url: str, method: str = "POST", body: bytes | None = None, headers: dict[str, str] | None = None):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


@pytest.fixture(scope="module")
def codec_http(tmp_path_factory):
    from infra.codec_server import DECODE, ENCODE, OidcVerifier, Principal

    tmp = tmp_path_factory.mktemp("codec")
    keys = tmp / "k.json"
    add_key(keys)
    ring = load_keyring({"EMERGENCY_CODEC_KEYS_FILE": str(keys)})
    from cryptography.hazmat.primitives.asymmetric import rsa
    import jwt

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (tmp / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    oidc = OidcVerifier(str(tmp / "jwks.json"), "https://sso.bureau.example", "temporal-ui")
    session = "session-" + uuid.uuid4().hex
    tokens = {"reader-token-0123456789": Principal("reader", frozenset({DECODE})),
              "writer-token-0123456789": Principal("writer", frozenset({DECODE, ENCODE}))}
    service = CodecService(EncryptionCodec(ring), tokens, {"default"}, {"http://localhost:8233"}, ui_session=session, oidc=oidc)
    server = serve_in_thread("127.0.0.1", 0, service)
    yield f"http://127.0.0.1:{server.port}", service, session, key
    server.shutdown()


def _body(service: CodecService, text: str = "李明轩") -> bytes:
    from temporalio.api.common.v1 import Payload

    enc = service.codec.encrypt(Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode()))
    return json.dumps({"payloads": [{"metadata": {k: base64.b64encode(v).decode() for k, v in enc.metadata.items()},
                                     "data": base64.b64encode(enc.data).decode()}]}).encode()


def test_codec_server_spoofed_origin_gets_nothing_and_the_ui_session_decodes_with_the_uis_query(codec_http):
    """Attack: with `--ui-without-token`, any local process decoded by sending the UI's Origin."""
    url, service, session, _ = codec_http
    ui = {"Origin": "http://localhost:8233", "X-Namespace": "default", "Content-Type": "application/json"}
    assert http(f"{url}/decode", body=_body(service), headers=ui)[0] == 401
    assert http(f"{url}/ui/wrong-session-0000/decode", body=_body(service), headers=ui)[0] == 401
    # the dev UI (2.54) posts …/decode?preserveStorageRefs=true from its origin through its session path
    status, out, headers = http(f"{url}/ui/{session}/decode?preserveStorageRefs=true", body=_body(service), headers=ui)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://localhost:8233"
    assert json.loads(base64.b64decode(json.loads(out)["payloads"][0]["data"])) == "李明轩"
    # the session path from another origin, or without one, or to encode: refused
    assert http(f"{url}/ui/{session}/decode", body=_body(service), headers={**ui, "Origin": "http://evil.example"})[0] == 403
    assert http(f"{url}/ui/{session}/decode", body=_body(service), headers={"X-Namespace": "default"})[0] == 401
    assert http(f"{url}/ui/{session}/encode", body=_body(service), headers=ui)[0] == 403
    # CORS preflight as the browser sends it
    status, _, headers = http(f"{url}/ui/{session}/decode?preserveStorageRefs=true", "OPTIONS", headers={
        "Origin": "http://localhost:8233", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization"})
    assert status == 204 and "x-namespace" in headers["Access-Control-Allow-Headers"]


def test_codec_server_decode_and_encode_are_separate_permissions(codec_http):
    """Attack: any token holder could mint valid ciphertext through /encode."""
    url, service, _, _ = codec_http
    plain = json.dumps({"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                                      "data": base64.b64encode(b'"x"').decode()}]}).encode()
    h = {"X-Namespace": "default", "Content-Type": "application/json"}
    assert http(f"{url}/decode", body=_body(service), headers={**h, "Authorization": "Bearer reader-token-0123456789"})[0] == 200
    assert http(f"{url}/encode", body=plain, headers={**h, "Authorization": "Bearer reader-token-0123456789"})[0] == 403
    assert http(f"{url}/encode", body=plain, headers={**h, "Authorization": "Bearer writer-token-0123456789"})[0] == 200


def test_codec_server_verifies_oidc_access_tokens(codec_http):
    import jwt

    url, service, _, key = codec_http
    now = int(time.time())
    claims = {"iss": "https://sso.bureau.example", "aud": "temporal-ui", "sub": "officer-zhou", "iat": now,
              "exp": now + 300, "permissions": ["codec:decode"]}

    def status(token: str, action: str = "decode", signer=key) -> int:
        return http(f"{url}/{action}", body=_body(service), headers={
            "X-Namespace": "default", "Content-Type": "application/json", "Authorization": f"Bearer {token}"})[0]

    def tok(signer=key, **over) -> str:
        return jwt.encode({**claims, **over}, signer, algorithm="RS256", headers={"kid": "k1"})

    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert status(tok()) == 200
    assert status(tok(), "encode") == 403  # the UI's officers: decode only
    assert status(tok(signer=other)) == 401  # not signed by the identity provider
    assert status(tok(exp=now - 10)) == 401
    assert status(tok(aud="another-app")) == 401
    assert status(tok(iss="https://evil.example")) == 401
    assert status(tok(permissions=[])) == 403
    assert status(jwt.encode({**claims}, "secret-key-secret-key-secret-key", algorithm="HS256")) == 401


def test_codec_server_malformed_content_length_is_a_400_and_holds_nothing(codec_http, caplog):
    url, _, _, _ = codec_http
    host, port = url.removeprefix("http://").split(":")
    for length in ("abc", "-5", "1e3"):
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(f"POST /decode HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode())
            reply = s.recv(4096).decode(errors="replace")
        assert reply.split("\r\n")[0].split()[1] == "400" and "Traceback" not in reply, reply
    # a body shorter than announced, then the client goes away: the server is still there at once
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /decode HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
    assert http(f"{url}/health", "GET")[0] == 200
    assert "Traceback" not in caplog.text and "malformed HTTP request refused" in caplog.text


# ------------------------------------------------------------------ transport


def test_webhook_and_sms_need_https_except_loopback(tmp_path):
    from activities.channel_config import load_channels
    from plan.agencies import DirectoryError

    def channels(**ch) -> Path:
        p = tmp_path / f"c{uuid.uuid4().hex[:4]}.json"
        p.write_text(json.dumps({"channels": ch}), encoding="utf-8")
        return p

    secret = "s" * 20
    with pytest.raises(DirectoryError, match="must be https://"):
        load_channels(channels(hook={"kind": "webhook", "url": "http://platform.example/notify", "secret": secret}))
    with pytest.raises(DirectoryError, match="must be https://"):
        load_channels(channels(sms={"kind": "sms", "url_template": "http://sms.example/send?to={to}"}))
    load_channels(channels(hook={"kind": "webhook", "url": "https://platform.example/notify", "secret": secret},
                           local={"kind": "webhook", "url": "http://127.0.0.1:9000/notify", "secret": secret}))


async def test_a_roster_address_over_http_or_an_untrusted_certificate_is_refused(tmp_path):
    from activities.http import DELIVERY_REJECTED, post

    import httpx

    async with httpx.AsyncClient() as client:
        with pytest.raises(ApplicationError) as err:
            await post(client, "hook", "POST", "http://platform.example/notify", content=b"{}")
        assert err.value.type == DELIVERY_REJECTED and "https://" in err.value.message
        # a gateway with a self-signed certificate (not trusted): refused, not retried
        cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        import ssl

        from aiohttp import web

        app = web.Application()
        async def ok(_request: web.Request) -> web.Response:
            return web.json_response({})

        app.router.add_post("/notify", ok)
        runner = web.AppRunner(app)
        await runner.setup()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        try:
            port = runner.addresses[0][1]
            with pytest.raises(ApplicationError) as err:
                await post(client, "hook", "POST", f"https://localhost:{port}/notify", content=b"{}")
            assert err.value.type == DELIVERY_REJECTED and "certificate" in err.value.message
        finally:
            await runner.cleanup()


def test_compose_takes_the_database_password_and_keys_from_secrets_without_default():
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "POSTGRES_PASSWORD:-" not in text and "POSTGRES_PWD: ${" not in text and "SQL_PASSWORD: ${" not in text
    assert "POSTGRES_PASSWORD_FILE: /run/secrets/postgres-password" in text
    assert "/run/secrets/postgres-password" in text.split("temporal-schema:")[1].split("temporal:")[0]
    assert "EMERGENCY_CODEC_KEYS_FILE: /run/secrets/codec-keys" in text
    res = subprocess.run(["docker-compose", "config"], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"]})
    if res.returncode == 0:  # docker-compose is installed (CI)
        assert "temporal\n" not in res.stdout.split("POSTGRES_PASSWORD")[-1][:40]
        assert "password: temporal" not in res.stdout.lower()


# ------------------------------------------------------------------ warnings (issue 20): the same rules


async def test_a_warning_is_encrypted_and_refused_in_plain_text_or_with_personal_data_in_its_id(cluster: Cluster):
    api = IncidentClient(cluster.client, cluster.queue)
    data = json.loads((ROOT / "examples" / "warnings" / "gongshu-C4.json").read_text(encoding="utf-8"))
    data.update(bureau=None, sign_id=f"SEC-{uuid.uuid4().hex[:6]}")
    wf = (await api.start_warning(data)).workflow_id
    raw = await cluster.plain.get_workflow_handle(wf).fetch_history()
    payload = raw.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert payload.metadata["encoding"] == b"binary/encrypted"
    assert not any(p.encode() in payload.data for p in PII)
    st = await api.warning_status(wf)  # the door with the keys reads it
    assert st.state == "analysing"
    await cluster.client.get_workflow_handle(wf).terminate("test done")
    plain_id = f"warning-PLAIN-{uuid.uuid4().hex[:6]}"
    await cluster.plain.start_workflow("Warning", data, id=plain_id, task_queue=cluster.queue,
                                       execution_timeout=timedelta(minutes=5))
    assert (await failure_of(cluster.client, plain_id)).type == "UnencryptedPayload"
    with pytest.raises(InvalidInput, match="sign_id"):
        await api.start_warning({**data, "sign_id": "YJ-13700000002"})
    with pytest.raises(InvalidInput, match="invalid workflow id"):
        await api.start_warning(data, workflow_id="warning-李明轩")
    # around the door (an encrypted `temporal workflow start`): the worker fails the run at once
    await cluster.client.start_workflow("Warning", data, id="warning-李明轩", task_queue=cluster.queue)
    cause = await failure_of(cluster.client, "warning-李明轩")
    assert cause.type == "PersonalDataInId" and "李" not in cause.message
