#!/usr/bin/env bash
# The browser tests drive Debian's chromium through Playwright (Playwright's own browser
# download cannot work without internet).  Install it when it is missing and we may.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  exit 0
fi
echo "The browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium) and rerun." >&2
exit 1
