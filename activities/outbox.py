"""``python -m activities.outbox read var/outbox.jsonl``: the outbox with its messages decrypted
(one JSON line per delivery), with the keys found as everywhere else (``infra/codec.py``)."""

from __future__ import annotations

import json
import sys

from activities.channels import read_outbox
from infra.codec import CodecConfigError, PayloadDecryptError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "read":
        print("usage: python -m activities.outbox read var/outbox.jsonl", file=sys.stderr)
        return 2
    try:
        for record in read_outbox(argv[1]):
            print(json.dumps(record, ensure_ascii=False))
    except (CodecConfigError, PayloadDecryptError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {argv[1]}: {err.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
