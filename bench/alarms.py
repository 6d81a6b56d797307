"""The alarm-intake workload (issue 20): platform alarms through the signed HTTP intake, against bare Temporal.

A district bureau takes on the order of 14,000 platform alarms a year (宝安区司法局: 13,987 in 2025),
about 1.6 an hour on average; the intake must hold that volume with a wide margin and answer each at
once. Measured in the same run, side by side:

- **sustained alarms/s**: a closed loop of ``concurrency`` lanes, each posting a signed alarm (drill
  mode) to ``starter.alarm_server.AlarmServer`` in this process, waiting for its verification duty
  task to be delivered, then verifying it harmless (the update answered; the alarm then closes on its
  own): an alarm taken in and discharged per lap; beside bare ``BenchHello`` workflows per second in a loop of the same size and length;
- **alarm → duty latency**: POST sent → the 司法所's verification task delivered (the notify
  activity's clock, the drill outbox), one at a time, beside bare start → activity, alternating.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from statistics import mean
from typing import TYPE_CHECKING, Any

import httpx

from activities.http import SIGNATURE_HEADER, sign
from bench.progress import Progress
from bench.workloads import EXAMPLES, STALL_S, Started, closed_loop, run_bare

if TYPE_CHECKING:
    from bench.__main__ import Bench

_run = uuid.uuid4().hex[:6]
_n = iter(range(1, 10**9))


def alarm_body() -> dict[str, Any]:
    data = json.loads((EXAMPLES / "alarms" / "out_of_bounds.json").read_text(encoding="utf-8"))
    data.update(alarm_id=f"BENCH-{_run}-{next(_n):06d}", drill=True,
                raised_at=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
    return data


class Platform:
    """The platform's side: signs and posts alarms, then (as the 司法所) verifies them."""

    def __init__(self, bench: Bench) -> None:
        from starter.alarms import AlarmClient

        self.bench = bench
        self.secret = secrets.token_hex(32).encode()
        self.alarms = AlarmClient(bench.client, bench.incident_queue)
        self.http = httpx.AsyncClient(timeout=30)
        self.url = ""
        """The intake's address, once it listens."""

    async def post(self) -> Started:
        raw = json.dumps({"timestamp": int(time.time()), "nonce": uuid.uuid4().hex, "alarm": alarm_body()},
                         ensure_ascii=False).encode()
        sent = time.time()
        r = await self.http.post(f"{self.url}/alarms", content=raw,
                                 headers={SIGNATURE_HEADER: sign(self.secret, raw), "Content-Type": "application/json"})
        if r.status_code != 200:
            raise RuntimeError(f"alarm intake answered {r.status_code}: {r.text[:200]}")
        return Started(r.json()["workflow_id"], "alarm", sent, time.time())

    async def duty(self, s: Started, timeout: float = STALL_S) -> float:
        """Seconds from the POST to the duty task's delivery."""
        tail, deadline = self.bench.tail, time.monotonic() + timeout
        while s.workflow_id not in tail.first_duty:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{s.workflow_id}: no verification duty delivered in {timeout:.0f}s")
            await asyncio.sleep(0.005)
            tail.poll()
        s.activity_at = tail.first_duty[s.workflow_id]
        return s.latency()

    async def whole(self, i: int, on_start) -> Started:
        s = await self.post()
        on_start(s)
        await self.duty(s)
        await self.alarms.verify(s.workflow_id, finding="false_alarm", result="基准测试:平台误报",
                                 actor="东城司法所 值班员")
        return s  # the alarm closes on its own (its last task runs beside the next laps)


async def alarm_intake(bench: Bench, seconds: float, concurrency: int, probes: int) -> dict[str, Any]:
    """The phase (see the module docstring); its figures go to ``result["alarms"]``."""
    from starter.alarm_server import AlarmServer

    platform = Platform(bench)
    async with AlarmServer(bench.client, platform.secret, port=0, queue=bench.incident_queue) as server:
        platform.url = server.url
        # latency, idle: one at a time, alternating
        bare_lat, alarm_lat = [], []
        bar = Progress("alarm latency idle", probes)
        for _ in range(probes):
            bare_lat.append((await run_bare(bench.client, bench.bare_queue)).latency())
            alarm_lat.append(await platform.duty(await platform.post()))
            bar.add()
        bar.close()

        async def loop(kind: str, make) -> tuple[float, int]:
            bar = Progress(f"sustained {kind}", seconds, "s")
            done: list[float] = []

            async def timed(i: int, on) -> Started:
                s = await make(i, on)
                done.append(time.time())
                return s

            ticker = asyncio.create_task(_tick(bar))
            _, t0, t1, _, _ = await closed_loop(timed, seconds=seconds, concurrency=concurrency, ramp=1.0,
                                                snapshot=lambda: None)
            ticker.cancel()
            n = sum(1 for t in done if t0 <= t <= t1)
            bar.close(f"{n} completed")
            return n / (t1 - t0), n

        bare_rate, bare_n = await loop("bare", lambda i, on: run_bare(bench.client, bench.bare_queue, on))
        alarm_rate, alarm_n = await loop("alarms", platform.whole)
    await platform.http.aclose()
    from bench.__main__ import ms, pct

    b50, b99, a50, a99 = pct(bare_lat, 50), pct(bare_lat, 99), pct(alarm_lat, 50), pct(alarm_lat, 99)
    return {
        "concurrency": concurrency,
        "window_s": seconds,
        "sustained": {"bare_workflows_per_s": round(bare_rate, 2), "alarms_per_s": round(alarm_rate, 2),
                      "ratio": round(alarm_rate / bare_rate, 3) if bare_rate else None,
                      "bare_completed": bare_n, "alarms_completed": alarm_n,
                      "alarms_per_year_at_this_rate": round(alarm_rate * 3600 * 24 * 365)},
        "latency_idle": {"n": probes, "bare_start_to_activity_ms": {"p50": ms(b50), "p99": ms(b99)},
                         "alarm_to_duty_ms": {"p50": ms(a50), "p99": ms(a99), "mean": ms(mean(alarm_lat))},
                         "ratio": {"p50": round(a50 / b50, 2), "p99": round(a99 / b99, 2)}},
    }


async def _tick(bar: Progress) -> None:
    while True:
        await asyncio.sleep(0.25)
        bar.set(time.monotonic() - bar.t0)
