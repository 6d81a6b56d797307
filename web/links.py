"""Signed duty links: the board opens what the worker's duty task messages carry (issue 18).

The signer lives in :mod:`infra.duty_links` (shared with the ``notify`` activity, which mints the links
into the duty tasks); this module is the board's name for it.
"""

from __future__ import annotations

from infra.duty_links import (
    REFUSED_ZH,
    USED_ZH,
    DutyLinks,
    LinkClaim,
    LinkConfigError,
    LinkError,
    derived_key,
    expiry,
)

__all__ = ["REFUSED_ZH", "USED_ZH", "DutyLinks", "LinkClaim", "LinkConfigError", "LinkError", "derived_key", "expiry"]
