"""The operators' and services' door: the ``python -m starter`` CLI and the typed API (``starter.api``)."""
