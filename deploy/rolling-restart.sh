#!/usr/bin/env bash
# Restarts a machine's reprise units one after another, each only once the one before answers
# /readyz again (docs/deployment.md, "Rolling restart"). Usage: rolling-restart.sh 3000 3001 …
# (the ports of this machine's units; API, worker and dispatcher units alike).
set -euo pipefail
for port in "$@"; do
  unit=$(systemctl list-units --plain --no-legend "reprise-*@${port}.service" | awk '{print $1}' | head -n 1)
  [ -n "$unit" ] || { echo "no reprise unit on port ${port}" >&2; exit 1; }
  echo "restarting ${unit}"
  systemctl restart "$unit"
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:${port}/readyz" >/dev/null || { echo "${unit} is not ready: stopping here" >&2; exit 1; }
  # Two health checks of the load balancer (inter 1s, rise 2) before the next one goes down.
  sleep 3
done
