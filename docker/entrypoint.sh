#!/bin/sh
# Worker / codec-server image entrypoint. Docker secrets are bind-mounted files that keep the host's
# owner and mode: after a key rotation (`python -m infra.codec rotate` writes the key file 0600 for its
# owner) the unprivileged app user (uid 10001) could no longer read them. So the container starts as
# root, copies every secret the environment names (`*_FILE=/run/secrets/...`) into /run/app-secrets,
# readable by the app user only (0400), points the variable at the copy, and drops to the app user.
# Started as a non-root user (e.g. Kubernetes runAsUser), it only runs the command.
set -eu
if [ "$(id -u)" = "0" ]; then
  dest=/run/app-secrets
  mkdir -p "$dest"
  chown app:app "$dest"
  chmod 0700 "$dest"
  for pair in $(env | grep -E '^[A-Z0-9_]+_FILE=/run/secrets/' || true); do
    var=${pair%%=*}
    src=${pair#*=}
    if [ -f "$src" ]; then
      copy="$dest/$(basename "$src")"
      install -o app -g app -m 0400 "$src" "$copy"
      export "$var=$copy"
    fi
  done
  exec setpriv --reuid=app --regid=app --init-groups -- "$@"
fi
exec "$@"
