#!/usr/bin/env bash
# The class-map tests (tests/classroom) start a real PostgreSQL server from Debian's package
# (tests/pg_server.py: initdb + pg_ctl in a temporary folder, loopback only).  Install it when it
# is missing and we may.  Only the binaries are needed: the package's own cluster is not used.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's postgresql for the class-map tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  exit 0
fi
echo "The class-map tests need PostgreSQL's server binaries: install them (Debian/Ubuntu: sudo apt-get install postgresql) and rerun." >&2
exit 1
