#!/usr/bin/env bash
# The SQL tests start a throwaway PostgreSQL 15 server; make sure its binaries and psql are here.
set -euo pipefail
# tests/pg_server.py runs PostgreSQL 15 from PATH or /usr/lib/postgresql/15/bin.
have_server() {
  [ -x /usr/lib/postgresql/15/bin/initdb ] || { command -v initdb >/dev/null 2>&1 && initdb --version | grep -q ' 15\.'; }
}
if have_server && command -v psql >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL 15 (server and psql) is needed by the SQL tests: install the Debian package postgresql-15" >&2
  exit 1
fi
echo "installing PostgreSQL 15 for the SQL tests (Debian package postgresql-15)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 >/dev/null
