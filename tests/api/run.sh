#!/usr/bin/env bash
# Runs the black-box API tests: once on SQLite, then once on PostgreSQL when asked.
#
#   tests/api/run.sh                 SQLite only
#   tests/api/run.sh URL             also PostgreSQL at URL (a role that may CREATE DATABASE:
#                                    every server gets a fresh database, dropped afterwards)
#   tests/api/run.sh --pg            also PostgreSQL, on a throwaway server started with
#                                    scripts/pg-test-server (and stopped at the end)
#
# Environment: KEHU_BIN (default <repo>/build/kehu), KEHU_TEST_KEEP=1 keeps temp data,
# KEHU_TEST_CONCURRENCY (test files run in parallel, default 2).
# Exit status: 0 only when every run passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tests="$(dirname "$here")"
repo="$(dirname "$tests")"
export KEHU_BIN="${KEHU_BIN:-$repo/build/kehu}"

[[ -x "$KEHU_BIN" ]] || { echo "run.sh: no kehu binary at $KEHU_BIN (build first or set KEHU_BIN)" >&2; exit 1; }

cd "$tests"
if [[ ! -d node_modules/ajv || ! -d node_modules/yaml || ! -d node_modules/ajv-formats ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

pg_url=""
pg_dir=""
cleanup() {
  if [[ -n "$pg_dir" ]]; then "$repo/scripts/pg-test-server" stop "$pg_dir" || true; fi
  pg_dir=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

case "${1:-}" in
  "") ;;
  --pg)
    pg_out="$("$repo/scripts/pg-test-server" start)"
    pg_url="$(sed -n 's/^url=//p' <<<"$pg_out")"
    pg_dir="$(sed -n 's/^dir=//p' <<<"$pg_out")"
    ;;
  postgres://*|postgresql://*) pg_url="$1" ;;
  *) echo "usage: $0 [POSTGRES_URL | --pg]" >&2; exit 2 ;;
esac

run() {
  node --test --test-concurrency="${KEHU_TEST_CONCURRENCY:-2}" --test-reporter=spec api/*.test.mjs
}

status=0
echo "== API tests on SQLite"
(unset KEHU_TEST_DATABASE; run) || status=1

if [[ -n "$pg_url" ]]; then
  echo "== API tests on PostgreSQL"
  (export KEHU_TEST_DATABASE="$pg_url"; run) || status=1
fi
exit "$status"
