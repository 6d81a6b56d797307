"""Incident workflows: one per incident type, named by clause (``c04_abscond.py`` = 001 §4(4)).

The registry (``INCIDENT_WORKFLOWS``, ``ALL_WORKFLOWS``, ``workflow_type_name``) lives in
``workflows/registry.py``; importing those names from here loads it on first use. This package's
``__init__`` imports nothing, so the workflow sandbox loads only the module of the workflow it runs.
"""

from __future__ import annotations

from typing import Any

_REGISTRY_NAMES = frozenset({"INCIDENT_WORKFLOWS", "ALL_WORKFLOWS", "workflow_type_name"})


def __getattr__(name: str) -> Any:
    if name in _REGISTRY_NAMES:
        from workflows import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'workflows' has no attribute {name!r}")
