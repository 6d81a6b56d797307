"""Payload encryption: AES-256-GCM or SM4-GCM (GB/T 39786-2021), keys by key id.

Every payload the worker, the starter and the SDK door send to Temporal (incident inputs with the
subject's name, ID number, address and phones; reports; query results; failure messages, since the
failure converter encodes them too) is encrypted before it leaves the process. Temporal's database, the
``temporal`` CLI and the Web UI only ever see ciphertext; officers with a token see plaintext through
the codec server (``python -m infra.codec_server``).

Keys (never in code) come from ``EMERGENCY_CODEC_KEYS_FILE`` (a JSON file, mode 0600) or
``EMERGENCY_CODEC_KEYS`` (the same JSON inline, e.g. from a secret store)::

    {"active": "k2026a",
     "keys": [{"id": "k2025a", "cipher": "AES-256-GCM", "key": "<base64, 32 bytes>"},
              {"id": "k2026a", "cipher": "SM4-GCM",     "key": "<base64, 16 bytes>"}]}

New payloads are encrypted with the ``active`` key; the key id and cipher are written into the
payload's metadata, so after a rotation (add a key, make it active, keep the old ones) old histories
still decode. Payloads that are not encrypted (histories written before encryption was turned on)
pass through unchanged for the officers' tools; the worker refuses them (``infra.guard``).
Without keys every process refuses to start unless ``EMERGENCY_INSECURE_PLAINTEXT=1``.
``python -m infra.codec new-key --file F --cipher SM4-GCM`` adds a key.

SM4-GCM is SM4 (GB/T 32907-2016) in GCM mode as in RFC 8998, from the ``cryptography`` package
(OpenSSL); :func:`check_ciphers` proves it against the RFC 8998 test vector at start-up.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
META_KEY_ID = "encryption-key-id"
META_CIPHER = "encryption-cipher"
NONCE_BYTES = 12
AAD_PREFIX = b"judicial-emergency/payload/v1|"

AES_256_GCM = "AES-256-GCM"
SM4_GCM = "SM4-GCM"
KEY_BYTES = {AES_256_GCM: 32, SM4_GCM: 16}

ENV_KEYS_FILE = "EMERGENCY_CODEC_KEYS_FILE"
ENV_KEYS = "EMERGENCY_CODEC_KEYS"
ENV_INSECURE = "EMERGENCY_INSECURE_PLAINTEXT"
"""``1``: no keys, payloads (personal data) in plain text. Local experiments only; printed as a warning."""
def var_dir() -> Path:
    """The embedded setup's state directory: ``EMERGENCY_VAR_DIR``, default ``var/`` in the project."""
    return Path(os.environ.get("EMERGENCY_VAR_DIR") or Path(__file__).resolve().parent.parent / "var").resolve()


def default_keys_file() -> Path:
    """``<var>/codec-keys.json``: what ``./dev.sh up`` writes; the CLI, the SDK door and the worker find
    it without any variable."""
    return var_dir() / "codec-keys.json"
UNENCRYPTED = b"binary/unencrypted-refused"
"""The worker's codec turns a payload that arrived unencrypted into this (no data): ``infra.guard``
refuses it with :data:`UNENCRYPTED_PAYLOAD`, and nothing of it is processed."""
UNENCRYPTED_PAYLOAD = "UnencryptedPayload"


class CodecConfigError(ValueError):
    """The key configuration is unusable; the message names the bad field (never a key)."""


class PayloadDecryptError(ValueError):
    """A payload could not be decrypted (unknown key id, wrong key, tampered data)."""


def _aead(cipher: str, key: bytes):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if cipher == AES_256_GCM:
        return AESGCM(key)
    if cipher == SM4_GCM:
        return _SM4GCM(key)
    raise CodecConfigError(f"cipher: '{cipher}' is not one of {AES_256_GCM}, {SM4_GCM}")


class _SM4GCM:
    """SM4 in GCM mode (RFC 8998), same interface as ``AESGCM``: data = ciphertext || 16-byte tag."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise CodecConfigError("key: SM4-GCM needs a 16-byte key")
        self._key = key

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        if aad:
            enc.authenticate_additional_data(aad)
        return enc.update(data) + enc.finalize() + enc.tag

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        if len(data) < 16:
            raise PayloadDecryptError("ciphertext too short")
        dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, data[-16:])).decryptor()
        if aad:
            dec.authenticate_additional_data(aad)
        return dec.update(data[:-16]) + dec.finalize()


# RFC 8998 Appendix A.1 (SM4-GCM): proves the installed OpenSSL really does SM4-GCM.
_RFC8998 = dict(
    key="0123456789ABCDEFFEDCBA9876543210",
    iv="00001234567800000000ABCD",
    aad="FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2",
    pt="AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    ct="17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
    "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
    tag="83DE3541E4C2B58177E065A9BF7B62EC",
)


def check_ciphers() -> None:
    """Raise CodecConfigError unless SM4-GCM gives the RFC 8998 test vector here."""
    v = {k: bytes.fromhex(s) for k, s in _RFC8998.items()}
    try:
        out = _SM4GCM(v["key"]).encrypt(v["iv"], v["pt"], v["aad"])
    except Exception as err:  # UnsupportedAlgorithm on an OpenSSL without SM4
        raise CodecConfigError(f"cipher: SM4-GCM is not available in this OpenSSL build ({err})") from None
    if out != v["ct"] + v["tag"]:
        raise CodecConfigError("cipher: SM4-GCM does not match the RFC 8998 test vector")


@dataclass(frozen=True)
class Key:
    id: str
    cipher: str
    material: bytes

    def aead(self):
        return _aead(self.cipher, self.material)


@dataclass(frozen=True)
class KeyRing:
    active: Key
    keys: dict[str, Key]

    @classmethod
    def from_json(cls, text: str, source: str = "keys") -> KeyRing:
        try:
            doc = json.loads(text)
        except ValueError:
            raise CodecConfigError(f"{source}: not valid JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list) or not doc["keys"]:
            raise CodecConfigError(f"{source}: keys: expected a non-empty list")
        keys: dict[str, Key] = {}
        for i, k in enumerate(doc["keys"]):
            where = f"{source}: keys[{i}]"
            if not isinstance(k, dict) or not isinstance(k.get("id"), str) or not k["id"]:
                raise CodecConfigError(f"{where}.id: required")
            cipher = k.get("cipher", AES_256_GCM)
            if cipher not in KEY_BYTES:
                raise CodecConfigError(f"{where}.cipher: '{cipher}' is not one of {AES_256_GCM}, {SM4_GCM}")
            try:
                material = base64.b64decode(k.get("key", ""), validate=True)
            except ValueError:
                raise CodecConfigError(f"{where}.key: not base64") from None
            if len(material) != KEY_BYTES[cipher]:
                raise CodecConfigError(f"{where}.key: {cipher} needs {KEY_BYTES[cipher]} bytes")
            if k["id"] in keys:
                raise CodecConfigError(f"{where}.id: duplicate key id '{k['id']}'")
            keys[k["id"]] = Key(k["id"], cipher, material)
        active = doc.get("active") or next(reversed(keys))
        if active not in keys:
            raise CodecConfigError(f"{source}: active: no key with id '{active}'")
        if any(k.cipher == SM4_GCM for k in keys.values()):
            check_ciphers()
        return cls(keys[active], keys)


def insecure_plaintext(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(ENV_INSECURE, "").strip().lower() in ("1", "true", "yes")


NO_KEYS = (f"no payload encryption keys: set {ENV_KEYS_FILE} (./dev.sh up writes var/codec-keys.json) "
           f"or {ENV_KEYS}; only for local experiments without personal data: {ENV_INSECURE}=1")


def _key_file(variable: str, path: str) -> KeyRing:
    p = Path(path)
    if not p.is_file():
        raise CodecConfigError(f"{variable}: no such file: {p}")
    return KeyRing.from_json(p.read_text(encoding="utf-8"), str(p))


def load_keyring(environ: Mapping[str, str] | None = None) -> KeyRing | None:
    """The configured keys: ``EMERGENCY_CODEC_KEYS``, else ``EMERGENCY_CODEC_KEYS_FILE``, else the dev
    stack's ``var/codec-keys.json`` if it exists (not when plain text was chosen explicitly); None
    when there are none."""
    env = os.environ if environ is None else environ
    inline = env.get(ENV_KEYS)
    if inline:
        return KeyRing.from_json(inline, ENV_KEYS)
    path = env.get(ENV_KEYS_FILE)
    if path:
        return _key_file(ENV_KEYS_FILE, path)
    default = default_keys_file()
    if not insecure_plaintext(env) and environ is None and default.is_file():
        return KeyRing.from_json(default.read_text(encoding="utf-8"), str(default))
    return None


def require_keyring(environ: Mapping[str, str] | None = None) -> KeyRing | None:
    """The keys, or None only when plain text was chosen explicitly (``EMERGENCY_INSECURE_PLAINTEXT=1``,
    with a warning on stderr); otherwise :class:`CodecConfigError` (fail closed)."""
    ring = load_keyring(environ)
    if ring is not None:
        return ring
    if insecure_plaintext(environ):
        warn_insecure()
        return None
    raise CodecConfigError(NO_KEYS)


def bureau_keys_env(bureau: str) -> str:
    """``EMERGENCY_CODEC_KEYS_FILE_<BUREAU>``: one bureau's key file (issue 17: each bureau its own keys)."""
    return f"{ENV_KEYS_FILE}_{bureau.upper().replace('-', '_')}"


def bureau_keys_file(bureau: str) -> Path:
    """``<var>/bureaus/<id>/codec-keys.json``: what ``./dev.sh up`` writes for each bureau."""
    return var_dir() / "bureaus" / bureau / "codec-keys.json"


def require_bureau_keyring(bureau: str, environ: Mapping[str, str] | None = None) -> KeyRing | None:
    """One bureau's keys (never another's): ``EMERGENCY_CODEC_KEYS_FILE_<BUREAU>``, else
    ``var/bureaus/<id>/codec-keys.json``; None only with ``EMERGENCY_INSECURE_PLAINTEXT=1``; otherwise
    :class:`CodecConfigError` naming the variable (fail closed)."""
    env = os.environ if environ is None else environ
    name = bureau_keys_env(bureau)
    path = env.get(name)
    if path:
        return _key_file(name, path)
    default = bureau_keys_file(bureau)
    if not insecure_plaintext(env) and default.is_file():
        return KeyRing.from_json(default.read_text(encoding="utf-8"), str(default))
    if insecure_plaintext(env):
        warn_insecure()
        return None
    raise CodecConfigError(
        f"no payload encryption keys for bureau {bureau}: set {name} (./dev.sh up writes {default}); "
        f"only for local experiments without personal data: {ENV_INSECURE}=1"
    )


_warned = False


def warn_insecure() -> None:
    global _warned
    if not _warned:
        _warned = True
        print(f"WARNING: {ENV_INSECURE}=1: payloads (personal data) are NOT encrypted; "
              "local experiments only, never with real incidents", file=sys.stderr, flush=True)


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload with the active key; decrypts with the key named in its metadata."""

    def __init__(self, keyring: KeyRing, *, refuse_plaintext: bool = False) -> None:
        self.keyring = keyring
        self.refuse_plaintext = refuse_plaintext
        """The worker's codec: a payload that arrived unencrypted becomes an :data:`UNENCRYPTED`
        marker without its data, which ``infra.guard`` refuses (the run fails, a report is refused)."""
        self._aeads = {k.id: k.aead() for k in keyring.keys.values()}

    def encrypt(self, p: Payload) -> Payload:
        key = self.keyring.active
        nonce = secrets.token_bytes(NONCE_BYTES)
        aad = AAD_PREFIX + f"{key.cipher}|{key.id}".encode()
        ct = self._aeads[key.id].encrypt(nonce, p.SerializeToString(), aad)
        return Payload(
            metadata={"encoding": ENCODING, META_KEY_ID: key.id.encode(), META_CIPHER: key.cipher.encode()},
            data=nonce + ct,
        )

    def decrypt(self, p: Payload) -> Payload:
        if p.metadata.get("encoding") != ENCODING:
            if self.refuse_plaintext:
                return Payload(metadata={"encoding": UNENCRYPTED})
            return p  # written before encryption was on (read by officers' tools)
        key_id = p.metadata.get(META_KEY_ID, b"").decode(errors="replace")
        key = self.keyring.keys.get(key_id)
        if key is None:
            raise PayloadDecryptError(
                f"payload encrypted with key id '{key_id}', which is not configured "
                f"({ENV_KEYS_FILE}): keep retired keys in the key file"
            )
        cipher = p.metadata.get(META_CIPHER, key.cipher.encode()).decode(errors="replace")
        if cipher != key.cipher:
            raise PayloadDecryptError(f"payload key id '{key_id}': cipher {cipher}, configured {key.cipher}")
        aad = AAD_PREFIX + f"{key.cipher}|{key.id}".encode()
        try:
            plain = self._aeads[key_id].decrypt(p.data[:NONCE_BYTES], p.data[NONCE_BYTES:], aad)
        except PayloadDecryptError:
            raise
        except Exception:
            raise PayloadDecryptError(f"payload with key id '{key_id}' failed authentication") from None
        return Payload.FromString(plain)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]


def new_key(cipher: str) -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES[cipher])).decode()


def add_key(path: Path, cipher: str = AES_256_GCM, key_id: str | None = None, *, activate: bool = True) -> str:
    """Add a fresh key to a key file (created with mode 0600), make it active, keep the old ones."""
    if cipher not in KEY_BYTES:
        raise CodecConfigError(f"cipher: '{cipher}' is not one of {AES_256_GCM}, {SM4_GCM}")
    doc = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"keys": []}
    key_id = key_id or f"k{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
    if any(k.get("id") == key_id for k in doc["keys"]):
        raise CodecConfigError(f"id: key id '{key_id}' already in {path}")
    doc["keys"].append({"id": key_id, "cipher": cipher, "key": new_key(cipher),
                        "created": datetime.now(UTC).isoformat(timespec="seconds")})
    if activate or not doc.get("active"):
        doc["active"] = key_id
    KeyRing.from_json(json.dumps(doc), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
    os.replace(tmp, path)
    return key_id


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m infra.codec", description="Payload encryption keys.")
    sub = p.add_subparsers(dest="cmd", required=True)
    nk = sub.add_parser("new-key", help="add a key to a key file and make it active (rotation)")
    nk.add_argument("--file", required=True, type=Path)
    nk.add_argument("--cipher", default=AES_256_GCM, choices=sorted(KEY_BYTES))
    nk.add_argument("--id", dest="key_id")
    nk.add_argument("--no-activate", dest="activate", action="store_false")
    sub.add_parser("check", help="validate the configured keys (EMERGENCY_CODEC_KEYS[_FILE], var/codec-keys.json)")
    args = p.parse_args(argv)
    try:
        if args.cmd == "new-key":
            print(add_key(args.file, args.cipher, args.key_id, activate=args.activate))
        else:
            ring = require_keyring()
            if ring is None:
                print(f"encryption off: {ENV_INSECURE}=1 (plain text chosen; local experiments only)")
            else:
                check_ciphers()
                print(f"encryption on: active key {ring.active.id} ({ring.active.cipher}), "
                      f"{len(ring.keys)} key(s): {', '.join(ring.keys)}")
    except CodecConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
