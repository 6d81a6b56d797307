"""Connection settings, read the same way by the worker, the starter and other services.

The SDK's own environment configuration applies: ``TEMPORAL_ADDRESS`` (default ``localhost:7233``),
``TEMPORAL_NAMESPACE`` (default ``default``), ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS*`` and TOML
client configuration profiles (``TEMPORAL_CONFIG_FILE``, ``TEMPORAL_PROFILE``).
``TEMPORAL_TASK_QUEUE`` names the task queue (default ``judicial-emergency``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.envconfig import ClientConfig

DEFAULT_TASK_QUEUE = "judicial-emergency"
DEFAULT_ADDRESS = "localhost:7233"


def task_queue() -> str:
    return os.environ.get("TEMPORAL_TASK_QUEUE") or DEFAULT_TASK_QUEUE


def connect_config() -> dict[str, Any]:
    """Client.connect keyword arguments from the SDK's profile + environment configuration."""
    config: dict[str, Any] = dict(
        ClientConfig.load_client_connect_config(profile=os.environ.get("TEMPORAL_PROFILE"))
    )
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.setdefault("namespace", "default")
    return config


def data_converter(
    environ: Mapping[str, str] | None = None, *, worker: bool = False, bureau: str | None = None
) -> DataConverter:
    """The one data converter of the worker, the starter, the SDK door and the bench: pydantic plus
    payload encryption (``infra/codec.py``); failure messages and stack traces are encrypted too.

    Fail closed: without keys (``EMERGENCY_CODEC_KEYS_FILE``, ``EMERGENCY_CODEC_KEYS`` or the dev
    stack's ``var/codec-keys.json``) it raises :class:`infra.codec.CodecConfigError`, unless plain
    text was chosen explicitly with ``EMERGENCY_INSECURE_PLAINTEXT=1`` (a warning is printed).
    ``worker=True``: payloads that arrive unencrypted are refused (``infra.guard``).
    ``bureau``: that bureau's own keys (``infra.codec.require_bureau_keyring``), never another's."""
    from infra.codec import EncryptionCodec, require_bureau_keyring, require_keyring

    keyring = require_bureau_keyring(bureau, environ) if bureau else require_keyring(environ)
    if keyring is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keyring, refuse_plaintext=worker),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(*, worker: bool = False, bureau: str | None = None, **overrides: Any) -> Client:
    """A client with the project's data converter (encrypted; see :func:`data_converter`).

    ``bureau``: a bureau's client (issue 17): its namespace (``config/bureaus/<id>.json``) and its own
    codec keys. An unreachable server is one line naming the address and the variable to set."""
    config = connect_config()
    if bureau:
        from plan.bureaus import load_profile, profile_path

        config["namespace"] = load_profile(profile_path(bureau)).namespace
    if "data_converter" not in overrides:
        config["data_converter"] = data_converter(worker=worker, bureau=bureau)
    config.update(overrides)
    try:
        return await Client.connect(**config)
    except RuntimeError as err:
        raise RuntimeError(
            f"cannot reach Temporal at {config['target_host']} (set TEMPORAL_ADDRESS; "
            f"./dev.sh up prints it): {str(err).splitlines()[0][:200]}"
        ) from None
