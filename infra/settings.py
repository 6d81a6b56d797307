"""Connection settings, read the same way by the worker, the starter and other services.

The SDK's own environment configuration applies: ``TEMPORAL_ADDRESS`` (default ``localhost:7233``),
``TEMPORAL_NAMESPACE`` (default ``default``), ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS*`` and TOML
client configuration profiles (``TEMPORAL_CONFIG_FILE``, ``TEMPORAL_PROFILE``).
``TEMPORAL_TASK_QUEUE`` names the task queue (default ``judicial-emergency``).
"""

from __future__ import annotations

import dataclasses
import os
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


def data_converter(environ: dict[str, str] | None = None) -> DataConverter:
    """The one data converter of the worker, the starter, the SDK door and the Replayer: pydantic, plus
    payload encryption (``infra/codec.py``) when keys are configured (``EMERGENCY_CODEC_KEYS_FILE`` or
    ``EMERGENCY_CODEC_KEYS``); failure messages and stack traces are then encrypted too."""
    from infra.codec import EncryptionCodec, load_keyring

    keyring = load_keyring(environ)
    if keyring is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(**overrides: Any) -> Client:
    """A client with the project's data converter (pydantic, encrypted when keys are configured)."""
    config = connect_config()
    config.setdefault("data_converter", data_converter())
    config.update(overrides)
    return await Client.connect(**config)
