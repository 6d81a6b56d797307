"""``python -m activities.outbox read var/outbox.jsonl [--duty-tasks]``: the outbox with its messages
decrypted (one JSON line per delivery), with the keys found as everywhere else (``infra/codec.py``).

``--duty-tasks``: only the duty tasks to people (steps ``duty-<id>``, not their escalations), as the
person's duty phone receives them: with the board deployed each ends with its signed link
(``确认办理:<board>/d/…``, ``activities/duty_link.py``)."""

from __future__ import annotations

import json
import sys

from activities.channels import read_outbox
from infra.codec import CodecConfigError, PayloadDecryptError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    tasks = "--duty-tasks" in argv
    argv = [a for a in argv if a != "--duty-tasks"]
    if len(argv) != 2 or argv[0] != "read":
        print("usage: python -m activities.outbox read var/outbox.jsonl [--duty-tasks]", file=sys.stderr)
        return 2
    try:
        for record in read_outbox(argv[1]):
            if tasks and not is_duty_task(record):
                continue
            print(json.dumps(record, ensure_ascii=False))
    except (CodecConfigError, PayloadDecryptError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {argv[1]}: {err.strerror}", file=sys.stderr)
        return 2
    return 0


def is_duty_task(record: dict) -> bool:
    """A duty task to a person (``duty-<id>``), not its escalation (``…-missed``)."""
    step = str(record.get("step", ""))
    return step.startswith("duty-") and not step.endswith("-missed")


if __name__ == "__main__":
    raise SystemExit(main())
