#!/usr/bin/env bash
# The alert rules' one system dependency: promtool, from Debian's `prometheus` package, which
# `npm run check:alerts` uses to check ops/prometheus/alerts.yml and run its unit tests
# (ops/prometheus/alerts.test.yml). Idempotent: installs only when promtool is missing.
# Run as root (CI) or with sudo available. The package also ships a prometheus service; in a
# container without systemd it is not started, and nothing here needs it.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  echo "setup-promtool: $(promtool --version 2>&1 | head -n 1) is already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-promtool: apt-get not found; install promtool (Prometheus 2.x) with your system's package manager" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "setup-promtool: run as root (or install sudo) to install prometheus" >&2
    exit 1
  fi
fi

echo "setup-promtool: installing prometheus (for promtool)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# No recommends: the package would pull in its node exporter and web assets otherwise.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus
echo "setup-promtool: done ($(promtool --version 2>&1 | head -n 1))"
