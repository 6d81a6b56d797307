"""Activities: everything that touches the outside world (notifications). Workflows decide, these act."""

from __future__ import annotations

import os
from pathlib import Path

from activities.channels import DEFAULT_DRILL_OUTBOX, DEFAULT_OUTBOX, OutboxChannel
from activities.notify import DrillLeak, Notifier
from plan.agencies import DEFAULT_DIRECTORY_PATH, load_directory
from plan.roster import RosterError, load_roster


def bureau_outbox_dir(bureau: str) -> Path:
    """``<var>/bureaus/<id>/``: a bureau's outboxes, beside its keys."""
    from infra.codec import var_dir

    path = var_dir() / "bureaus" / bureau
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def build_activities(
    *,
    directory_path: Path | str | None = None,
    outbox: Path | str | None = None,
    drill_outbox: Path | str | None = None,
    roster_path: Path | str | None = None,
    channels_path: Path | str | None = None,
    clock=None,
    archive: Path | str | None = None,
    bureau=None,
) -> list:
    """Every activity the worker registers, configured from arguments or the environment.

    ``EMERGENCY_DIRECTORY`` (default ``config/directory.json``), ``EMERGENCY_OUTBOX``
    (default ``var/outbox.jsonl``), ``EMERGENCY_DRILL_OUTBOX`` (default ``var/drill-outbox.jsonl``),
    ``EMERGENCY_CHANNELS`` (webhook / SMS / e-mail channels, e.g. ``config/channels.example.json``;
    default none) and ``EMERGENCY_ROSTER`` (routes and duty roster, e.g. ``config/roster.json``;
    default none: every notification goes to the outbox), ``EMERGENCY_ARCHIVE_DIR`` (long incidents'
    archived records, default ``var/archive``: ``activities/archive.py``), ``BOARD_URL`` (the duty board:
duty tasks carry the person's signed link, ``activities/duty_link.py``; the board's secret
``BOARD_SECRET_KEY_FILE`` must then exist). Invalid configuration raises
    :class:`~plan.agencies.DirectoryError` naming the file, line, field and problem.

    ``bureau`` (a :class:`plan.bureaus.BureauProfile`): that bureau's own bodies and contacts are the
    directory, its ``roster`` (if any) the roster, and its outboxes are its own
    (``var/bureaus/<id>/outbox.jsonl`` and ``drill-outbox.jsonl``), sealed with its own keys (issue 17).
    """
    from activities.channel_config import load_channels
    from plan.bureaus import BUREAUS_DIR

    if bureau is not None:
        directory = bureau.directory()
        if bureau.roster and roster_path is None:
            roster_path = Path(os.environ.get("EMERGENCY_BUREAUS_DIR") or BUREAUS_DIR) / bureau.roster
    else:
        directory = load_directory(
            directory_path or os.environ.get("EMERGENCY_DIRECTORY") or DEFAULT_DIRECTORY_PATH
        )
    channels_path = channels_path or os.environ.get("EMERGENCY_CHANNELS") or None
    roster_path = roster_path or (None if bureau is not None else os.environ.get("EMERGENCY_ROSTER")) or None
    channels = {}
    if channels_path:
        channels = {name: cfg.build(name) for name, cfg in load_channels(channels_path).channels.items()}
    roster = None
    if roster_path:
        roster = load_roster(roster_path, directory=directory, channels={"outbox", *channels})
    if bureau is not None:  # the bureau's own outboxes, sealed with its own keys (issue 17)
        from infra.codec import EncryptionCodec, require_bureau_keyring

        ring = require_bureau_keyring(bureau.id)
        sealing: dict = {"codec": EncryptionCodec(ring) if ring else None}
        base = bureau_outbox_dir(bureau.id)
        outbox = outbox or base / "outbox.jsonl"
        drill_outbox = drill_outbox or base / "drill-outbox.jsonl"
        archive = archive or base / "archive"
    else:
        sealing = {}
    from activities.duty_link import from_env as duty_linker
    from infra.codec import var_dir

    namespace = bureau.namespace if bureau is not None else (os.environ.get("TEMPORAL_NAMESPACE") or "default")
    linker = duty_linker(var_dir(), roster=roster, roster_path=roster_path, namespace=namespace)
    try:
        notifier = Notifier(
            directory,
            OutboxChannel(outbox or os.environ.get("EMERGENCY_OUTBOX") or DEFAULT_OUTBOX, **sealing),
            OutboxChannel(
                drill_outbox or os.environ.get("EMERGENCY_DRILL_OUTBOX") or DEFAULT_DRILL_OUTBOX,
                name="drill-outbox", **sealing,
            ),
            roster=roster,
            channels=channels,
            clock=clock,
            bureau=bureau.id if bureau is not None else None,
            linker=linker,
        )
    except DrillLeak as err:
        raise RosterError(str(err)) from None
    from activities.archive import Archive

    return [notifier.notify, Archive(archive, codec=sealing.get("codec", "env")).archive]
