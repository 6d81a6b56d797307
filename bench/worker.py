"""The benchmark's worker process: the project's incident worker (``worker.build_worker``, exactly as
shipped) and the bare hello-world worker, in one process whose CPU and RSS the benchmark reads.

    python -m bench.worker ADDRESS BARE_QUEUE INCIDENT_QUEUE OUTBOX DRILL_OUTBOX [OPTIONS_JSON]

``OPTIONS_JSON`` (tuning experiments only): Worker keyword arguments applied to both workers, e.g.
``{"max_cached_workflows": 2000}``; ``{"sandbox_passthrough": ["workflows"]}`` loads those modules
once instead of in every workflow run's sandbox; ``{"tune_gc": false}`` leaves CPython's garbage
collector as it is (``worker.tune_gc`` not called); ``{"sandbox": false}`` runs workflows unsandboxed
(to measure the sandbox's cost, never for production). A third worker, on ``INCIDENT_QUEUE-degraded``,
runs the same incidents with every delivery but 110/120 failing (the degraded phase). With
``BENCH_ROLE=first-task`` the process runs only a workflows-only worker on ``INCIDENT_QUEUE-first-task``
(the first-task CPU phase, in a process of its own so that nothing else is in its CPU figure). Prints
``ready`` once the workers poll.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

from temporalio.worker import Worker


class DownExceptUrgent:
    """A drill sink that fails every delivery but 110's and 120's, as a channel that is down does
    (retryable, for the whole retry budget): the bench's "every other channel failing" phase."""

    real = False
    acknowledges = False

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name

    async def deliver(self, delivery):
        if delivery.request.recipient.value not in ("police_110", "medical_120"):
            raise ConnectionError("channel down (bench: every channel but 110/120 failing)")
        return await self.inner.deliver(delivery)


async def main(argv: list[str]) -> None:
    address, bare_queue, incident_queue, outbox, drill_outbox = argv[:5]
    options = json.loads(argv[5]) if len(argv) > 5 and argv[5] else {}

    from activities import build_activities
    from bench.bare import BenchHello, noop
    from infra.settings import connect
    from worker import build_worker
    from workflows import ALL_WORKFLOWS

    client = await connect(target_host=address, worker=True)
    sandbox = options.pop("sandbox", True)
    gc_tuned = options.pop("tune_gc", True)  # {"tune_gc": false}: CPython's GC defaults (experiments)
    passthrough = options.pop("sandbox_passthrough", [])
    if sandbox is False:
        from temporalio.worker import UnsandboxedWorkflowRunner

        options["workflow_runner"] = UnsandboxedWorkflowRunner()
    elif passthrough:
        from temporalio.worker.workflow_sandbox import (
            SandboxedWorkflowRunner,
            SandboxRestrictions,
        )

        options["workflow_runner"] = SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*passthrough)
        )
    runner = {"workflow_runner": options["workflow_runner"]} if "workflow_runner" in options else {}
    if os.environ.get("BENCH_ROLE") == "first-task":
        # The first-task phase's process: workflows only (nobody runs their activities on this queue), so
        # its CPU is the first workflow task of each workflow started there, bare or C1, and nothing else.
        # (the C1s' other notifications go to ``-first-task-notifications``; scheduled is all this phase waits for)
        from infra.guard import PayloadGuard
        from worker import prepare_sandbox, tune_gc

        prepare_sandbox()  # as worker.build_worker does

        only = Worker(client, task_queue=f"{incident_queue}-first-task", workflows=[*ALL_WORKFLOWS, BenchHello],
                      interceptors=[PayloadGuard()], **runner)
        if gc_tuned:
            tune_gc()  # as worker.run_worker does
        await _run({asyncio.create_task(only.run()): "first-task"})
        await only.shutdown()
        return
    incident = build_worker(client, queue=incident_queue, outbox=outbox, drill_outbox=drill_outbox,
                            worker_options=options)
    # The degraded phase's worker: the same incident worker whose sink fails every delivery but 110/120
    # (every other channel down), on its own queue.
    acts = build_activities(outbox=outbox, drill_outbox=drill_outbox)
    notifier = acts[0].__self__
    notifier.drill_channel = DownExceptUrgent(notifier.drill_channel)
    degraded = build_worker(client, queue=f"{incident_queue}-degraded", activities=acts)
    options.pop("workflow_runner", None)
    bare = Worker(client, task_queue=bare_queue, workflows=[BenchHello], activities=[noop], **options)
    from worker import tune_gc

    if gc_tuned:
        tune_gc()  # as worker.run_worker does (the process's GC, for the bare worker beside it too)
    await _run({asyncio.create_task(incident.run()): "incident", asyncio.create_task(bare.run()): "bare",
                asyncio.create_task(degraded.run()): "degraded"})
    await asyncio.gather(incident.shutdown(), bare.shutdown(), degraded.shutdown())


async def _run(runs: dict[asyncio.Task[Any], str]) -> None:
    """Say ``ready``, then wait for SIGTERM/SIGINT; a worker that ends by itself ends the process (code 3)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*runs, stopping], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task in runs:  # a worker ended by itself: say why, and let the benchmark fail fast
            err = task.exception()
            print(f"bench worker: the {runs[task]} worker stopped: {err!r}", file=sys.stderr, flush=True)
            os._exit(3)


if __name__ == "__main__":
    from infra import logging as logs

    os.environ.setdefault("LOG_FORMAT", "json")
    logs.configure()
    asyncio.run(main(sys.argv[1:]))
    sys.stdout.flush()
    os._exit(0)  # the SDK may abort at interpreter exit (sdk-python #300)
