"""``python -m web``: the duty board on its own (``./dev.sh up`` starts it in the dev stack).

    BOARD_HOST=127.0.0.1 BOARD_PORT=8235 python -m web

Reads TEMPORAL_* like the starter (the SDK's environment configuration), the codec keys like every
client (fail closed), ``BOARD_ACCOUNTS_FILE`` and ``BOARD_SECRET_KEY_FILE`` (``web/config.py``). Behind
TLS set ``BOARD_COOKIE_SECURE=1``.
"""

from __future__ import annotations

import argparse
import os
import sys

from aiohttp import web

from infra import logging as logs
from infra.codec import CodecConfigError, var_dir
from web.config import BoardConfigError

DEFAULT_PORT = 8235


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    p = argparse.ArgumentParser(prog="python -m web", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=os.environ.get("BOARD_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("BOARD_PORT", DEFAULT_PORT)))
    args = p.parse_args(argv)
    from plan.agencies import DirectoryError
    from web.app import app_from_env

    try:
        from infra.settings import data_converter

        data_converter()  # fail closed now, not on the first page
        app = app_from_env(var_dir())
    except (BoardConfigError, CodecConfigError, DirectoryError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
