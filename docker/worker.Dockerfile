# Worker image: every incident workflow and activity, polling the `judicial-emergency` task queue.
# Build from the repository root:  docker build -f docker/worker.Dockerfile .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Unprivileged runtime user; /var/lib/emergency is the (volume-mounted) outbox directory.
# A fresh named volume takes this directory's ownership, so the worker can write to it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /var/lib/emergency \
    && chown app:app /var/lib/emergency

COPY . /app
# Bytecode for /app, which the worker imports from: the sandbox imports the workflow modules afresh for
# every new incident, and without it (PYTHONDONTWRITEBYTECODE) compiles them each time (issue 19).
RUN pip install . \
    && python -m compileall -q /app/workflows /app/plan /app/activities /app/infra /app/starter \
    && install -m 0755 docker/entrypoint.sh /usr/local/bin/judicial-entrypoint

# No `USER app` here: the entrypoint starts as root only to copy the Docker secrets into a directory
# the app user can read (a rotated key file is 0600 for its host owner), then drops to uid 10001.

ENV TEMPORAL_TASK_QUEUE=judicial-emergency \
    EMERGENCY_DIRECTORY=config/directory.json \
    EMERGENCY_OUTBOX=/var/lib/emergency/outbox.jsonl \
    EMERGENCY_DRILL_OUTBOX=/var/lib/emergency/drill-outbox.jsonl \
    LOG_FORMAT=json

VOLUME ["/var/lib/emergency"]

# Worker metrics (Prometheus): WORKER_METRICS_PORT, docs/deployment.md.
EXPOSE 9464

# Exec form, and the entrypoint `exec`s through setpriv: python is PID 1 and receives SIGTERM
# directly, which starts the graceful drain.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/judicial-entrypoint"]
CMD ["python", "worker.py"]
