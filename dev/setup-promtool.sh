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

source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
# No recommends: the package would pull in its node exporter and web assets otherwise.
apt_install setup-promtool prometheus
echo "setup-promtool: done ($(promtool --version 2>&1 | head -n 1))"
