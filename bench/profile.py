"""Where a first workflow task's CPU goes: a profile of the workflow activations, bare beside C1.

    python -m bench.profile [--n 100] [--top 25] [--passthrough workflows.base] [--cpu-only]

Starts its own dev server and, in this process, a workflows-only worker whose activations run in one
thread with ``cProfile`` on (the thread's CPU from ``time.thread_time``); starts N bare workflows, then
N C1 incidents (drill), waits until each has its first activity scheduled (its first task done), and
prints the activation thread's CPU per first task for each and the C1 profile's top entries
(cumulative). ``--passthrough``: modules passed through the sandbox (an experiment; see
docs/benchmarks.md for what is and is not kept). Needs codec keys like the benchmark
(``EMERGENCY_CODEC_KEYS_FILE``) or ``EMERGENCY_INSECURE_PLAINTEXT=1``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


class Profiled:
    """Workflow instance creation (sandbox set-up, on the event loop's thread) and activations (in a
    one-thread executor), profiled and CPU-timed (``time.thread_time``) while ``on``."""

    def __init__(self, profile: bool = True) -> None:
        self.profiling = profile
        self.profile = cProfile.Profile()
        self.cpu = {"create": 0.0, "activate": 0.0}
        self.gc = 0.0
        """CPU in the cyclic garbage collector while ``on``, in any thread (part of the figures above
        when it ran in creation or activation)."""
        self._gc_t: dict[int, float] = {}
        gc.callbacks.append(self._gc_phase)
        self.on = False
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="activation")
        orig = self.executor.submit

        def submit(fn, /, *args, **kwargs):
            return orig(self.timed, "activate", fn, *args, **kwargs)

        self.executor.submit = submit  # type: ignore[method-assign]
        from temporalio.worker import _workflow

        create = _workflow._WorkflowWorker._create_workflow_instance

        def create_instance(worker, *args, **kwargs):
            return self.timed("create", create, worker, *args, **kwargs)

        _workflow._WorkflowWorker._create_workflow_instance = create_instance  # type: ignore[method-assign,assignment]

    def timed(self, what: str, fn, *args, **kwargs):
        if not self.on:
            return fn(*args, **kwargs)
        t = time.thread_time()
        if self.profiling:
            self.profile.enable()
        try:
            return fn(*args, **kwargs)
        finally:
            if self.profiling:
                self.profile.disable()
            self.cpu[what] += time.thread_time() - t

    def _gc_phase(self, phase: str, info: dict) -> None:
        tid = threading.get_ident()
        if phase == "start":
            self._gc_t[tid] = time.thread_time()
        elif tid in self._gc_t:
            t = self._gc_t.pop(tid)
            if self.on:
                self.gc += time.thread_time() - t

    def reset(self) -> None:
        self.profile = cProfile.Profile()
        self.cpu = {"create": 0.0, "activate": 0.0}
        self.gc = 0.0


async def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--passthrough", nargs="*", default=[])
    p.add_argument("--cpu-only", action="store_true", help="no cProfile: the CPU figures without its overhead")
    p.add_argument("--gc-threshold", help="experiment: gc.set_threshold(...) before the measured batches, e.g. 10000,20,100")
    p.add_argument("--gc-freeze", action="store_true", help="experiment: gc.freeze() after the warm-up")
    args = p.parse_args()

    from temporalio.worker import Worker
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

    from bench.bare import BenchHello
    from bench.workloads import start_bare, start_incident
    from devstack import DevServer, free_port
    from infra.settings import connect
    from starter.api import IncidentClient
    from worker import prepare_sandbox
    from workflows import ALL_WORKFLOWS

    prepare_sandbox()  # as the shipped worker does (worker.build_worker)

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as d:
        server = DevServer(port=free_port(), ui_port=None, db_file=Path(d) / "t.db").start()
        try:
            client = await connect(target_host=server.address, worker=True)
            thread = Profiled(profile=not args.cpu_only)
            runner: dict[str, Any] = {}
            if args.passthrough:
                runner["workflow_runner"] = SandboxedWorkflowRunner(
                    restrictions=SandboxRestrictions.default.with_passthrough_modules(*args.passthrough))
            queue = "profile"
            api = IncidentClient(client, queue)
            async with Worker(client, task_queue=queue, workflows=[*ALL_WORKFLOWS, BenchHello],
                              workflow_task_executor=thread.executor, **runner):
                # warm-up: one of each, unmeasured (first imports outside the sandbox)
                for s in (await start_bare(client, queue), await start_incident(api, "C1")):
                    await _first_task_done(client, s.workflow_id)
                if args.gc_threshold:
                    gc.set_threshold(*(int(x) for x in args.gc_threshold.split(",")))
                if args.gc_freeze:
                    gc.freeze()
                out = {}
                gc_ms: dict[str, float] = {}
                for kind in ("bare", "C1"):
                    thread.reset()
                    thread.on = True
                    ids = []
                    for _ in range(args.n):
                        s = await (start_bare(client, queue) if kind == "bare" else start_incident(api, "C1"))
                        ids.append(s.workflow_id)
                    for wf in ids:
                        await _first_task_done(client, wf)
                    thread.on = False
                    out[kind] = ({k: v / args.n for k, v in thread.cpu.items()}, thread.profile)
                    gc_ms[kind] = 1000 * thread.gc / args.n
            for kind, (cpu, _) in out.items():
                print(f"{kind}: sandbox/instance creation {1000 * cpu['create']:.2f} ms + activation "
                      f"{1000 * cpu['activate']:.2f} ms CPU per first task (garbage collection {gc_ms[kind]:.2f} ms)")
            bare_ms, c1_ms = (1000 * sum(out[k][0].values()) for k in ("bare", "C1"))
            print(f"first task, creation + activation: bare {bare_ms:.2f} ms, C1 {c1_ms:.2f} ms "
                  f"({c1_ms / bare_ms:.2f}x), {args.n} each, passthrough={args.passthrough or 'none'}")
            if args.cpu_only:
                return
            buf = io.StringIO()
            st = pstats.Stats(out["C1"][1], stream=buf).sort_stats("cumulative")
            st.print_stats(args.top)
            st.print_stats("workflows|plan|activities|infra", args.top)
            print(buf.getvalue())
        finally:
            server.stop()


async def _first_task_done(client, wf: str) -> None:
    while not (await client.get_workflow_handle(wf).describe()).raw_description.pending_activities:
        await asyncio.sleep(0.02)


if __name__ == "__main__":
    assert threading.current_thread() is threading.main_thread()
    asyncio.run(main())
