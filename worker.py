"""The worker: runs every incident workflow and every activity from one registry.

Connection settings come from the environment (see ``infra/settings.py``): ``TEMPORAL_ADDRESS``,
``TEMPORAL_NAMESPACE``, TLS / API key, client configuration profiles, and ``TEMPORAL_TASK_QUEUE``
(default ``judicial-emergency``). SIGINT/SIGTERM stop polling, let running activities finish
(``WORKER_SHUTDOWN_GRACE_SECONDS``, default 30) and exit.

Bureaus (issue 17): with ``EMERGENCY_BUREAUS=huangyan,gongshu`` one worker process serves each
bureau's namespace (``config/bureaus/<id>.json``), each with its own client, codec keys
(``EMERGENCY_CODEC_KEYS_FILE_<BUREAU>``, default ``var/bureaus/<id>/codec-keys.json``), directory
(the profile's bodies and contacts) and watcher. Every profile is validated before connecting: a bad
one is one line naming the file and field, exit code 2. Unset: one namespace (``TEMPORAL_NAMESPACE``).

Metrics: ``WORKER_METRICS_PORT`` (and ``WORKER_METRICS_HOST``, default 127.0.0.1) serve the SDK's and
the plans' metrics in Prometheus format (``infra/metrics.py``).

Worker Versioning: with ``WORKER_BUILD_ID`` set, the worker is version ``WORKER_BUILD_ID`` of the worker
deployment ``WORKER_DEPLOYMENT_NAME`` (default ``judicial-emergency``), and every incident is pinned to
the version it started on (docs/operations.md, "Plan revisions"). The first version of a deployment is
made current when it starts (``WORKER_DEPLOYMENT_PROMOTE=if-none``, the default); later ones when the
operator says so (``temporal worker deployment set-current-version``), or at start with ``always``.

    python worker.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker, WorkerConfig, WorkerDeploymentConfig

from activities import build_activities
from activities.watch import IncidentWatch
from infra import logging as logs
from infra import metrics
from infra.codec import CodecConfigError
from infra.guard import PayloadGuard
from infra.heartbeat import AutoHeartbeat
from infra.settings import connect, task_queue
from plan.agencies import DirectoryError
from plan.queues import notifications_queue
import workflows
from workflows import ALL_WORKFLOWS

log = structlog.get_logger("worker")


DEFAULT_DEPLOYMENT = "judicial-emergency"


WORKFLOWS_DIR = Path(workflows.__file__).resolve().parent
_bytecode_checked: set[Path] = set()


def cache_workflow_bytecode(directory: Path = WORKFLOWS_DIR) -> bool:
    """Write the workflow modules' bytecode (``__pycache__``) if it is missing or stale; True if it is there.

    The sandbox imports an incident's workflow module and ``workflows.base`` afresh for every new
    workflow run (the first workflow task of every incident). Without cached bytecode, which is what
    ``PYTHONDONTWRITEBYTECODE=1`` (set in the worker image, and common in CI) leaves, each of those
    imports compiles the source again: about half of a C1's first-task CPU (docs/benchmarks.md).
    Written explicitly here (``compileall`` ignores that variable); a read-only tree is reported, not
    fatal (the image compiles at build time: docker/worker.Dockerfile)."""
    if directory in _bytecode_checked:
        return True
    import compileall

    # every level: the mechanics and procedures packages are imported afresh by every run too
    ok = bool(compileall.compile_dir(str(directory), quiet=2))
    if ok:
        _bytecode_checked.add(directory)
    else:
        log.warning("workflow bytecode not cached: every new incident compiles its workflow module again "
                    "(make the directory writable, or run python -m compileall on it)", directory=str(directory))
    return ok


def prepare_sandbox() -> None:
    """What makes a new run's sandbox cheap to set up, done once per process (issue 19): the workflow
    modules' bytecode written (:func:`cache_workflow_bytecode`) and their code objects kept in memory
    (``infra/workflow_code.py``), so each sandbox executes them afresh without finding, reading and
    unmarshalling them again. The sandbox itself (restrictions, a fresh module per run) is unchanged."""
    from infra import workflow_code

    cache_workflow_bytecode()
    workflow_code.install()


#: The cyclic garbage collector's first threshold in a worker process (CPython's default: 700). Every new
#: run's sandbox allocates thousands of objects (its own modules, classes, functions), so with the
#: default a first workflow task triggered a young collection several times, each also walking the
#: cached incidents' objects that survive into the older generations: 4.2 ms of a C1's first task
#: (``python -m bench.profile``), 1.2 ms with this and :func:`tune_gc`'s freeze (docs/benchmarks.md, issue 19).
GC_THRESHOLD = (10_000, 10, 10)


def tune_gc() -> None:
    """Once the worker is built: what was loaded so far (the SDK, the registry, plan data) is kept out
    of every later collection (``gc.freeze``), and young collections run every ``GC_THRESHOLD[0]``
    allocations instead of 700. The older generations keep CPython's ratios, so the sandboxes of
    finished incidents (cyclic garbage) are still collected as often relative to the young ones."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


#: Workflow-task polls of the incidents' worker, and the share of them on the normal queue (the rest on
#: the sticky queue); measured in docs/benchmarks.md (issue 19).
WORKFLOW_TASK_POLLS = 10
NONSTICKY_POLL_RATIO = 0.5

#: Activity slots for the notifications other than 110/120, on their own queue: a burst's thousands of
#: them never take the slots (on the incidents' queue) that 110 and 120 calls run in.
NOTIFICATION_ACTIVITY_SLOTS = 100


class IncidentWorker:
    """The incident worker: workflows and the 110/120 calls on ``task_queue``, and every other
    notification on ``plan.queues.notifications_queue(task_queue)`` with its own pollers and activity
    slots (issue 19).

    Two SDK workers (a Temporal worker polls one task queue) that start, run and stop as one: used like a
    ``temporalio.worker.Worker`` (``async with``, ``run()``, ``shutdown()``, ``config()``)."""

    def __init__(self, main: Worker, notifications: Worker) -> None:
        self.main, self.notifications = main, notifications
        self._stack: contextlib.AsyncExitStack | None = None

    def config(self) -> WorkerConfig:
        """The main worker's configuration (its ``task_queue`` is the incidents' queue)."""
        return self.main.config()

    @property
    def notifications_queue(self) -> str:
        return self.notifications.task_queue

    @property
    def is_running(self) -> bool:
        return self.main.is_running and self.notifications.is_running

    async def run(self) -> None:
        """Run both until shut down; if one stops by itself (an error), stop the other and raise."""
        runs = [asyncio.create_task(self.main.run()), asyncio.create_task(self.notifications.run())]
        done, pending = await asyncio.wait(runs, return_when=asyncio.FIRST_COMPLETED)
        for w, t in zip((self.main, self.notifications), runs):
            if t in pending:
                await w.shutdown()
        await asyncio.gather(*runs)

    async def shutdown(self) -> None:
        await asyncio.gather(self.main.shutdown(), self.notifications.shutdown())

    async def __aenter__(self) -> IncidentWorker:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self.main)
            await stack.enter_async_context(self.notifications)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._stack is not None
        await self._stack.aclose()
        self._stack = None


def build_worker(
    client: Client,
    *,
    queue: str | None = None,
    activities: list | None = None,
    deployment: WorkerDeploymentVersion | None = None,
    bureau_clients: dict[str, Client] | None = None,
    worker_options: dict[str, Any] | None = None,
    notification_slots: int = NOTIFICATION_ACTIVITY_SLOTS,
    **activity_config,
) -> IncidentWorker:
    """The worker with every workflow and activity registered (also used by tests, the dev stack and the
    benchmark), and its companion on the notifications queue (``plan/queues.py``) running the same
    activities with ``notification_slots`` slots of its own.

    ``deployment``: run as that Worker Deployment Version, every workflow pinned to the version it
    started on (``VersioningBehavior.PINNED``), so a plan revision never replays under running incidents;
    the notifications queue's worker is the same version (a pinned incident's notifications go to it).
    ``worker_options``: further ``Worker`` keyword arguments for the main worker (benchmark tuning).
    ``bureau_clients``: every bureau's client in this process, for 001 §5(1)'s cross-namespace 协助配合
    (``activities/assist.py``; without them a linked incident is refused as not served)."""
    from activities.assist import Assist
    from activities.follow import Follow

    queue = queue or task_queue()
    prepare_sandbox()
    activities = activities if activities is not None else build_activities(**activity_config)
    versioning = WorkerDeploymentConfig(
        version=deployment, use_worker_versioning=True, default_versioning_behavior=VersioningBehavior.PINNED
    ) if deployment is not None else None
    grace = timedelta(seconds=float(os.environ.get("WORKER_SHUTDOWN_GRACE_SECONDS", "30")))
    polling: dict[str, Any] = {
        # Every new incident's first workflow task waits on the normal queue; the SDK's defaults (5
        # polls, 0.2 of them there) keep one poll open on it, which bounded a burst of 1,000 alerts to
        # 1.6 first tasks/s; 10 polls, half there: 3.0/s (docs/benchmarks.md, issue 19).
        "workflow_task_poller_behavior": PollerBehaviorSimpleMaximum(maximum=WORKFLOW_TASK_POLLS),
        "nonsticky_to_sticky_poll_ratio": NONSTICKY_POLL_RATIO,
    }
    options = {**polling, **(worker_options or {})}
    if "max_concurrent_workflow_task_polls" in options:  # the SDK's older spelling wins over the behaviour
        options.pop("workflow_task_poller_behavior")
    main = Worker(
        client,
        task_queue=queue,
        workflows=ALL_WORKFLOWS,
        activities=[*activities, *Assist(bureau_clients, queue).activities(), *Follow(client).activities()],
        graceful_shutdown_timeout=grace,
        # a killed worker's activity is retried within seconds; unencrypted payloads and ids with
        # personal data are refused (infra/guard.py)
        interceptors=[AutoHeartbeat(), PayloadGuard()],
        deployment_config=versioning,
        **options,
    )
    notifications = Worker(
        client,
        task_queue=notifications_queue(queue),
        activities=activities,
        max_concurrent_activities=notification_slots,
        graceful_shutdown_timeout=grace,
        interceptors=[AutoHeartbeat(), PayloadGuard()],
        deployment_config=versioning,
    )
    return IncidentWorker(main, notifications)


def deployment_from_env(environ: dict[str, str] | None = None) -> WorkerDeploymentVersion | None:
    """``WORKER_BUILD_ID`` (unset: an unversioned worker) of ``WORKER_DEPLOYMENT_NAME``."""
    env = os.environ if environ is None else environ
    build_id = env.get("WORKER_BUILD_ID", "").strip()
    if not build_id:
        return None
    return WorkerDeploymentVersion(env.get("WORKER_DEPLOYMENT_NAME", "").strip() or DEFAULT_DEPLOYMENT, build_id)


async def current_version(client: Client, deployment_name: str) -> str | None:
    """The build id the deployment routes new incidents to, or None (no such deployment, or none current)."""
    from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentRequest

    try:
        resp = await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=deployment_name)
        )
    except RPCError:
        return None
    routing = resp.worker_deployment_info.routing_config
    return routing.current_deployment_version.build_id or None


async def promote(client: Client, version: WorkerDeploymentVersion, *, only_if_none: bool,
                  attempts: int = 60) -> bool:
    """Make ``version`` the deployment's current version (new incidents start on it); with
    ``only_if_none``, only when the deployment has none yet (its first version). Retried while the
    server has not yet seen this version's pollers. Returns whether it is current now."""
    from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest

    for _ in range(attempts):
        current = await current_version(client, version.deployment_name)
        if current == version.build_id:
            return True
        if current and only_if_none:
            log.info("worker deployment has a current version; not promoting", current=current,
                     build_id=version.build_id, deployment=version.deployment_name)
            return False
        try:
            await client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace=client.namespace, deployment_name=version.deployment_name,
                    build_id=version.build_id, identity="worker.py",
                )
            )
            log.info("worker deployment version is current", deployment=version.deployment_name,
                     build_id=version.build_id)
            return True
        except RPCError:  # the version is not registered yet (its pollers are just starting)
            await asyncio.sleep(0.5)
    return False


def stop_on_signals(stop: asyncio.Event | None) -> asyncio.Event:
    """``stop`` (or a new event), set on SIGINT/SIGTERM where this loop can take signals."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    return stop


async def run_worker(client: Client | None = None, stop: asyncio.Event | None = None,
                     *, bureaus: list[str] | None = None, clients: dict[str, Client] | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then shut down gracefully.

    ``bureaus`` (default ``EMERGENCY_BUREAUS``): serve each bureau's namespace from this process;
    ``clients``: bureau id -> client already connected (tests, the dev stack)."""
    from plan.bureaus import bureaus_from_env, load_bureaus

    ids = bureaus if bureaus is not None else bureaus_from_env()
    if ids:
        await run_bureaus(load_bureaus(ids), stop, clients=clients)
        return
    # Configuration first: a bad directory, roster or channel file is reported before connecting.
    activities = build_activities()
    deployment = deployment_from_env()
    promote_mode = os.environ.get("WORKER_DEPLOYMENT_PROMOTE", "if-none").strip() or "if-none"
    if promote_mode not in ("if-none", "always", "never"):
        raise metrics.MetricsConfigError(
            f"WORKER_DEPLOYMENT_PROMOTE: {promote_mode!r} is not one of if-none, always, never"
        )
    if client is None:
        runtime = metrics.runtime_from_env()
        client = await connect(worker=True, runtime=runtime) if runtime is not None else await connect(worker=True)
    worker = build_worker(client, activities=activities, deployment=deployment)
    tune_gc()
    stop = stop_on_signals(stop)
    log.info("worker started", task_queue=worker.config()["task_queue"], notifications_queue=worker.notifications_queue,
             namespace=client.namespace,
             payload_encryption=client.data_converter.payload_codec is not None,
             metrics=metrics.metrics_address(), build_id=deployment.build_id if deployment else None)
    watch = IncidentWatch(client, activities[0].__self__)
    async with worker:
        if deployment is not None and promote_mode != "never":
            await promote(client, deployment, only_if_none=promote_mode == "if-none")
        # incidents that end abnormally are reported by the worker, not by themselves (activities/watch.py)
        watcher = asyncio.create_task(watch.run(stop)) if watch.interval.total_seconds() > 0 else None
        await stop.wait()
        if watcher is not None:
            await watcher
        log.info("worker stopping: finishing running tasks")
    log.info("worker stopped")


async def run_bureaus(profiles: list, stop: asyncio.Event | None, *, clients: dict[str, Client] | None = None) -> None:
    """One worker per bureau namespace in this process (issue 17), each with that bureau's own
    client (namespace and codec keys), directory and watcher; all stop together."""
    from plan.agencies import Agency

    activities = {p.id: build_activities(bureau=p) for p in profiles}  # configuration first
    deployment = deployment_from_env()
    clients = dict(clients or {})
    runtime = metrics.runtime_from_env()
    for p in profiles:
        if p.id not in clients:
            extra = {"runtime": runtime} if runtime is not None else {}
            clients[p.id] = await connect(worker=True, bureau=p.id, **extra)
    stop = stop_on_signals(stop)
    workers = [build_worker(clients[p.id], activities=activities[p.id], deployment=deployment, bureau_clients=clients)
               for p in profiles]
    tune_gc()
    watches = [
        IncidentWatch(clients[p.id], activities[p.id][0].__self__,
                      office=Agency.EMERGENCY_OFFICE if p.linkage else Agency.CORRECTION_COMMAND_OFFICE)
        for p in profiles
    ]
    for p, w in zip(profiles, workers, strict=True):
        log.info("worker started", bureau=p.id, namespace=clients[p.id].namespace,
                 task_queue=w.config()["task_queue"], plans=sorted(k.value for k in p.adopted),
                 payload_encryption=clients[p.id].data_converter.payload_codec is not None)
    async with contextlib.AsyncExitStack() as stack:
        for w in workers:
            await stack.enter_async_context(w)
        watchers = [asyncio.create_task(wt.run(stop)) for wt in watches if wt.interval.total_seconds() > 0]
        await stop.wait()
        for t in watchers:
            await t
        log.info("worker stopping: finishing running tasks")
    log.info("worker stopped")


def main() -> int:
    logs.configure()
    try:
        asyncio.run(run_worker())
    except (DirectoryError, CodecConfigError, metrics.MetricsConfigError) as err:
        log.error("configuration error", error=str(err))
        return 2
    except RuntimeError as err:  # connection refused and similar
        log.error("worker failed", error=str(err))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
