"""Payload encryption (AES-256-GCM, SM4-GCM per GB/T 39786-2021), the codec server, and a scan of what
Temporal keeps: with the codec on, no personal data of the example subject sits in the history, the
``temporal`` CLI output, the raw SQLite file or the worker log."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from helpers import ROOT, example
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from devstack import DevServer, free_port
from infra.codec import (
    AES_256_GCM,
    ENCODING,
    SM4_GCM,
    CodecConfigError,
    EncryptionCodec,
    KeyRing,
    PayloadDecryptError,
    add_key,
    check_ciphers,
    load_keyring,
)
from infra.codec_server import CodecService, serve_in_thread
from infra.settings import connect, data_converter
from starter.api import IncidentClient

# The example subject's personal data (examples/C4.json): none of it may be stored in plain text.
PERSONAL = {
    "subject name": "李明轩",
    "ID number": "331003199001011236",
    "address": "黄岩区东城街道永宁路 88 号",
    "subject phone": "13700000002",
    "family name": "李秀英",
    "family phone": "13700000003",
}
# A control incident sent without encryption: the same scans must find its data (they can fail).
CONTROL = {"name": "赵控制", "id_number": "110101199001011237", "phone": "13600000009", "address": "控制区测试路 1 号"}


def keyring(*specs: tuple[str, str], active: str | None = None) -> KeyRing:
    keys = [{"id": i, "cipher": c, "key": base64.b64encode(os.urandom(32 if c == AES_256_GCM else 16)).decode()}
            for i, c in specs]
    return KeyRing.from_json(json.dumps({"active": active or specs[-1][0], "keys": keys}))


def payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text, ensure_ascii=False).encode())


# ---------------------------------------------------------------------------------------- the codec


def test_sm4_gcm_matches_rfc8998_vector():
    check_ciphers()  # raises if this OpenSSL's SM4-GCM differs from RFC 8998 A.1


@pytest.mark.parametrize("cipher", [AES_256_GCM, SM4_GCM])
async def test_round_trip_hides_the_plaintext_and_names_the_key(cipher):
    codec = EncryptionCodec(keyring(("k1", cipher)))
    [enc] = await codec.encode([payload("李明轩 331003199001011236")])
    assert enc.metadata["encoding"] == ENCODING
    assert enc.metadata["encryption-key-id"] == b"k1" and enc.metadata["encryption-cipher"] == cipher.encode()
    assert "李明轩".encode() not in enc.data and b"331003199001011236" not in enc.data
    [dec] = await codec.decode([enc])
    assert json.loads(dec.data) == "李明轩 331003199001011236"
    [enc2] = await codec.encode([payload("李明轩 331003199001011236")])
    assert enc2.data != enc.data  # a fresh nonce each time


async def test_rotation_old_histories_still_decode_and_unknown_keys_are_named():
    old = keyring(("k2025", AES_256_GCM))
    [written_before] = await EncryptionCodec(old).encode([payload("旧记录")])
    rotated = KeyRing(
        active=keyring(("k2026", SM4_GCM)).active, keys={**old.keys, **keyring(("k2026", SM4_GCM)).keys}
    )
    codec = EncryptionCodec(rotated)
    [written_after] = await codec.encode([payload("新记录")])
    assert written_after.metadata["encryption-key-id"] == b"k2026"
    assert [json.loads(p.data) for p in await codec.decode([written_before, written_after])] == ["旧记录", "新记录"]
    # a key dropped too early: the error names the key id, not the content
    with pytest.raises(PayloadDecryptError, match="key id 'k2025', which is not configured"):
        await EncryptionCodec(keyring(("k2026", SM4_GCM))).decode([written_before])
    # unencrypted payloads (history from before encryption was on) pass through
    plain = payload("明文")
    assert (await codec.decode([plain]))[0] == plain


async def test_tampered_payload_is_refused():
    codec = EncryptionCodec(keyring(("k1", SM4_GCM)))
    [enc] = await codec.encode([payload("x")])
    enc.data = enc.data[:-1] + bytes([enc.data[-1] ^ 1])
    with pytest.raises(PayloadDecryptError, match="failed authentication"):
        await codec.decode([enc])


@pytest.mark.parametrize(
    "doc,expected",
    [
        ("{", "not valid JSON"),
        ({"keys": []}, "keys: expected a non-empty list"),
        ({"keys": [{"id": "a", "cipher": "DES", "key": ""}]}, "keys[0].cipher: 'DES' is not one of"),
        ({"keys": [{"id": "a", "cipher": SM4_GCM, "key": base64.b64encode(b"x" * 32).decode()}]},
         "keys[0].key: SM4-GCM needs 16 bytes"),
        ({"active": "b", "keys": [{"id": "a", "key": base64.b64encode(b"x" * 32).decode()}]}, "active: no key with id 'b'"),
    ],
)
def test_bad_key_configuration_is_named(doc, expected):
    with pytest.raises(CodecConfigError) as err:
        load_keyring({"EMERGENCY_CODEC_KEYS": doc if isinstance(doc, str) else json.dumps(doc)})
    assert expected in str(err.value)


async def test_converter_refuses_without_keys_is_plain_only_by_choice_and_encrypts_with_them(tmp_path):
    with pytest.raises(CodecConfigError, match="no payload encryption keys"):
        data_converter({})
    assert data_converter({"EMERGENCY_INSECURE_PLAINTEXT": "1"}) is pydantic_data_converter
    keys = tmp_path / "keys.json"
    first = add_key(keys, SM4_GCM)
    second = add_key(keys, AES_256_GCM)  # rotation: the old key stays for decoding
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    conv = data_converter({"EMERGENCY_CODEC_KEYS_FILE": str(keys)})
    assert isinstance(conv.payload_codec, EncryptionCodec)
    assert set(conv.payload_codec.keyring.keys) == {first, second} and conv.payload_codec.keyring.active.id == second
    # failure messages are encrypted too (encode_common_attributes)
    from temporalio.api.failure.v1 import Failure
    from temporalio.exceptions import ApplicationError

    failure = Failure()
    await conv.encode_failure(ApplicationError("李明轩 refused"), failure)
    assert failure.message == "Encoded failure" and "李明轩".encode() not in failure.SerializeToString()
    assert str(await conv.decode_failure(failure)) == "李明轩 refused"


def test_worker_refuses_to_start_with_a_bad_key_file(tmp_path):
    res = subprocess.run(
        [sys.executable, "worker.py"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "EMERGENCY_CODEC_KEYS_FILE": str(tmp_path / "missing.json"), "LOG_FORMAT": "json"},
    )
    assert res.returncode == 2
    assert "EMERGENCY_CODEC_KEYS_FILE: no such file" in res.stderr and "Traceback" not in res.stderr


# ---------------------------------------------------------------------------------- the codec server


def post(url: str, body: dict | bytes, headers: dict[str, str]) -> tuple[int, dict, dict[str, str]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **headers}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}"), dict(err.headers)


@pytest.fixture
def codec_server():
    from infra import logging as logs

    logs.configure(json=True)
    ring = keyring(("k1", SM4_GCM))
    token = "officer-token-" + uuid.uuid4().hex
    service = CodecService(EncryptionCodec(ring), {token: "officer-zhou"}, {"default"}, {"http://localhost:8233"})
    port = free_port()
    server = serve_in_thread("127.0.0.1", port, service)
    yield f"http://127.0.0.1:{port}", token, service
    server.shutdown()
    server.server_close()


async def test_codec_server_decodes_for_an_authorised_officer_only(codec_server, caplog):
    url, token, service = codec_server
    [enc] = await service.codec.encode([payload("李明轩")])
    body = {"payloads": [{"metadata": {k: base64.b64encode(v).decode() for k, v in enc.metadata.items()},
                          "data": base64.b64encode(enc.data).decode()}]}
    ok = {"Authorization": f"Bearer {token}", "X-Namespace": "default", "Origin": "http://localhost:8233"}
    status, out, headers = await asyncio.to_thread(post, f"{url}/decode", body, ok)
    assert status == 200
    assert json.loads(base64.b64decode(out["payloads"][0]["data"])) == "李明轩"
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:8233"
    # refusals: no token, a wrong token, another namespace, a foreign origin
    assert (await asyncio.to_thread(post, f"{url}/decode", body, {**ok, "Authorization": ""}))[0] == 401
    assert (await asyncio.to_thread(post, f"{url}/decode", body, {**ok, "Authorization": "Bearer nope"}))[0] == 401
    assert (await asyncio.to_thread(post, f"{url}/decode", body, {**ok, "X-Namespace": "other"}))[0] == 403
    assert (await asyncio.to_thread(post, f"{url}/decode", body, {**ok, "Origin": "http://evil.example"}))[0] == 403
    assert (await asyncio.to_thread(post, f"{url}/decode", b"not json", ok))[0] == 400
    # CORS preflight from the UI origin
    req = urllib.request.Request(f"{url}/decode", method="OPTIONS", headers={
        "Origin": "http://localhost:8233", "Access-Control-Request-Method": "POST"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204 and "x-namespace" in resp.headers["Access-Control-Allow-Headers"]
    # one audit line per decode, naming who and how many, never the content
    events = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    audit = [e for e in events if e["event"] == "codec decode"]
    log = caplog.text
    assert len(audit) == 1
    assert audit[0]["principal"] == "officer-zhou" and audit[0]["namespace"] == "default"
    assert audit[0]["payloads"] == 1 and audit[0]["key_ids"] == ["k1"]
    assert "李明轩" not in log and token not in log
    assert sum(e["event"] == "codec request refused" for e in events) == 5


# ------------------------------------------------------------------ scan of what Temporal keeps


def with_payload_data(blob: bytes) -> bytes:
    """``blob`` plus, for CLI JSON output, the base64-decoded ``data`` of every payload in it (the CLI
    prints payloads as base64, so a plain-text payload would otherwise escape the scan)."""
    try:
        doc = json.loads(blob)
    except ValueError:
        return blob
    extra: list[bytes] = []

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k == "data" and isinstance(x, str):
                    try:
                        extra.append(base64.b64decode(x, validate=True))
                    except ValueError:
                        pass
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(doc)
    return blob + b"\n".join(extra)


def scan(blob: bytes, needles: dict[str, str]) -> list[str]:
    """Which of ``needles`` occur in ``blob`` (UTF-8 or JSON-escaped; payload data decoded)."""
    blob = with_payload_data(blob)
    found = []
    for what, text in needles.items():
        forms = {text.encode(), json.dumps(text).strip('"').encode()}
        if any(f in blob for f in forms):
            found.append(what)
    return found


@pytest.mark.devserver
async def test_no_personal_data_in_history_cli_sqlite_or_worker_log(tmp_path):
    keys = tmp_path / "codec-keys.json"
    add_key(keys, SM4_GCM)
    server = DevServer(port=free_port(), ui_port=None, db_file=tmp_path / "temporal.db").start()
    queue = "scan-" + uuid.uuid4().hex[:6]
    env = {**os.environ, "TEMPORAL_ADDRESS": server.address, "TEMPORAL_TASK_QUEUE": queue,
           "EMERGENCY_CODEC_KEYS_FILE": str(keys), "EMERGENCY_OUTBOX": str(tmp_path / "outbox.jsonl"),
           "EMERGENCY_DRILL_OUTBOX": str(tmp_path / "drill.jsonl"), "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("EMERGENCY_CODEC_KEYS", None)
    worker_log = tmp_path / "worker.log"
    with open(worker_log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    codec_http = None
    try:
        client = await connect(target_host=server.address, data_converter=data_converter(env))
        api = IncidentClient(client, queue)
        wf = (await api.start(example("C4", alert_id=f"SCAN-{uuid.uuid4().hex[:6]}"))).workflow_id
        await api.report(wf, {"kind": "arrived", "actor": "东城司法所 值班员"})
        await api.report(wf, {"kind": "progress", "actor": "东城司法所", "current_situation": "正在联系李秀英(13700000003)"})
        await api.report(wf, {"kind": "search_result", "actor": "东城司法所", "found": False, "methods": ["phone"]})
        with pytest.raises(Exception):  # a refusal: its failure message is encrypted too
            await api.report(wf, {"kind": "closed", "actor": "x", "result": "李明轩", "current_situation": "x",
                                  "measures_taken": ["y"]})
        for _ in range(200):
            st = await api.status(wf)
            if any(e.step == "section-report-up" for e in st.timeline):
                break
            await asyncio.sleep(0.1)
        assert any("李明轩" in e.text_zh for e in st.timeline), "the officers see the subject's name (decrypted)"
        # the control incident, sent in plain text (no codec)
        plain = IncidentClient(await connect(target_host=server.address, data_converter=pydantic_data_converter), queue)
        control = example("C4", alert_id=f"CTRL-{uuid.uuid4().hex[:6]}")
        control["subject"] = {**control["subject"], **CONTROL, "family": []}
        ctrl = (await plain.start(control)).workflow_id

        async def cli(*args: str, extra: dict[str, str] | None = None) -> bytes:
            res = await asyncio.to_thread(subprocess.run, ["temporal", *args], env={**env, **(extra or {})},
                                          capture_output=True, timeout=60)
            assert res.returncode == 0, res.stderr
            return res.stdout

        outputs = {
            "workflow show -o json": await cli("workflow", "show", "-w", wf, "-o", "json"),
            "workflow show": await cli("workflow", "show", "-w", wf, "--detailed"),
            "workflow describe -o json": await cli("workflow", "describe", "-w", wf, "-o", "json"),
            "workflow describe": await cli("workflow", "describe", "-w", wf),
        }
        # the CLI recipe for authorised officers: through the codec server, the payloads are readable
        token = "officer-" + uuid.uuid4().hex
        service = CodecService(EncryptionCodec(load_keyring(env)), {token: "scan-test"}, {"default"}, set())
        codec_port = free_port()
        codec_http = serve_in_thread("127.0.0.1", codec_port, service)
        decoded = await cli("workflow", "show", "-w", wf, "-o", "json", extra={
            "TEMPORAL_CODEC_ENDPOINT": f"http://127.0.0.1:{codec_port}", "TEMPORAL_CODEC_AUTH": f"Bearer {token}"})
        ctrl_show = await cli("workflow", "show", "-w", ctrl, "-o", "json")
    finally:
        worker.terminate()
        worker.wait(30)
        server.stop()  # the SQLite file is checkpointed and closed
        if codec_http:
            codec_http.shutdown()
    db = b"".join(p.read_bytes() for p in tmp_path.glob("temporal.db*"))
    log = worker_log.read_bytes()
    leaks = {name: scan(blob, PERSONAL) for name, blob in {**outputs, "sqlite file": db, "worker log": log}.items()}
    print(f"\nscanned {len(db)} bytes of SQLite, {len(log)} bytes of worker log, {len(outputs)} CLI outputs: "
          f"{sum(map(len, leaks.values()))} personal data hits")
    assert leaks == {name: [] for name in leaks}
    assert b"codec decode" not in log and b"notification delivered" in log  # the worker really ran
    # the scans can fail: the plain-text control is found, and the codec recipe shows the real data
    ctrl_needles = {"control name": CONTROL["name"], "control ID": CONTROL["id_number"]}
    assert scan(ctrl_show, ctrl_needles) == list(ctrl_needles) and scan(db, ctrl_needles) == list(ctrl_needles)
    assert scan(decoded, {"subject name": "李明轩"}) == ["subject name"]


# ------------------------------------------------------------------------- transport security


def test_tls_mtls_and_api_key_come_from_the_environment_or_a_profile(tmp_path, monkeypatch):
    """infra.settings.connect_config uses the SDK's envconfig: docs/operations.md, "Transport security"."""
    from temporalio.service import TLSConfig

    from infra.settings import connect_config

    for k in [k for k in os.environ if k.startswith("TEMPORAL_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "none.toml"))
    assert connect_config()["target_host"] == "localhost:7233" and not connect_config().get("tls")
    # Temporal Cloud: an API key turns TLS on
    monkeypatch.setenv("TEMPORAL_ADDRESS", "ns.acct.tmprl.cloud:7233")
    monkeypatch.setenv("TEMPORAL_API_KEY", "secret-key")
    cfg = connect_config()
    assert cfg["api_key"] == "secret-key" and cfg["tls"] is True
    # mTLS to a self-hosted frontend: client certificate and key, private CA, server name
    monkeypatch.delenv("TEMPORAL_API_KEY")
    for name, data in {"client.pem": b"CERT", "client.key": b"KEY", "ca.pem": b"CA"}.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(tmp_path / "client.pem"))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(tmp_path / "client.key"))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.bureau.internal")
    tls = connect_config()["tls"]
    assert isinstance(tls, TLSConfig)
    assert (tls.client_cert, tls.client_private_key, tls.server_root_ca_cert, tls.domain) == (
        b"CERT", b"KEY", b"CA", "temporal.bureau.internal")
    # a TOML client configuration profile
    for k in [k for k in os.environ if k.startswith("TEMPORAL_")]:
        monkeypatch.delenv(k)
    (tmp_path / "temporal.toml").write_text(
        '[profile.prod]\naddress = "temporal.bureau.internal:7233"\nnamespace = "judicial-emergency"\n'
        f'[profile.prod.tls]\nclient_cert_path = "{tmp_path / "client.pem"}"\nclient_key_path = "{tmp_path / "client.key"}"\n'
    )
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "temporal.toml"))
    monkeypatch.setenv("TEMPORAL_PROFILE", "prod")
    cfg = connect_config()
    assert cfg["target_host"] == "temporal.bureau.internal:7233" and cfg["namespace"] == "judicial-emergency"
    assert isinstance(cfg["tls"], TLSConfig) and cfg["tls"].client_cert == b"CERT"
