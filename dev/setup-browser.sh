#!/usr/bin/env bash
# The browser tests' one system dependency: Debian's chromium (Playwright's own browser download
# does not work here; playwright-core drives this one) and a CJK font, without which every Chinese
# character renders as a box in headless screenshots. Idempotent: installs only what is missing.
# Run as root (CI) or with sudo available.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'install ok installed' || need+=(fonts-noto-cjk)

if [ ${#need[@]} -eq 0 ]; then
  echo "setup-browser: chromium and fonts-noto-cjk are already installed"
  exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install setup-browser "${need[@]}"
fc-cache -f >/dev/null 2>&1 || true
echo "setup-browser: done ($(/usr/bin/chromium --version 2>/dev/null || echo chromium))"
