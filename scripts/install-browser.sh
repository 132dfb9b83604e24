#!/usr/bin/env bash
# Installs headless Chromium and chromedriver from Debian, for the Swagger UI browser test
# (tests/api/browser.rs, which skips itself without them). Idempotent: does nothing when
# /usr/bin/chromedriver and /usr/bin/chromium are already there. Needs root (or sudo).
# Usage: scripts/install-browser.sh
set -euo pipefail
if [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/chromium ]; then
  echo "chromium and chromedriver already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
/usr/bin/chromedriver --version
