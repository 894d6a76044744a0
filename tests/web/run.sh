#!/usr/bin/env bash
# Runs the web UI end-to-end tests (*.test.mjs, sharing lib.mjs) against a fresh `kehu serve`:
# a temporary data directory and key, an admin with a random password, a free port on
# 127.0.0.1, the built UI from web/dist. Screenshots go to docs/screenshots/.
#
# Environment: KEHU_BIN (default <repo>/build/kehu), KEHU_WEB_DIR (default <repo>/web/dist,
# built when missing), KEHU_CHROMIUM (default /usr/bin/chromium), KEHU_SCREENSHOT_DIR,
# KEHU_TEST_KEEP=1 keeps the temporary directory (data, key, server log), KEHU_WEB_TESTS the
# test files to run (default ./*.test.mjs, e.g. "./ui.test.mjs").
# Exit status: 0 only when every test passed and the server stayed up.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
KEHU_BIN="${KEHU_BIN:-$repo/build/kehu}"
WEB_DIR="${KEHU_WEB_DIR:-$repo/web/dist}"
CHROMIUM="${KEHU_CHROMIUM:-/usr/bin/chromium}"

[[ -x "$KEHU_BIN" ]] || { echo "run.sh: no kehu binary at $KEHU_BIN (build first or set KEHU_BIN)" >&2; exit 1; }
[[ -x "$CHROMIUM" ]] || { echo "run.sh: no Chromium at $CHROMIUM (apt-get install chromium)" >&2; exit 1; }

if [[ ! -f "$WEB_DIR/index.html" ]]; then
  echo "== building the web UI"
  (cd "$repo/web" && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
fi

cd "$here"
if [[ ! -d node_modules/playwright-core ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kehu-web-test.XXXXXX")"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [[ "${KEHU_TEST_KEEP:-0}" = 1 ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
password="e2e-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

printf '%s\n' "$password" | "$KEHU_BIN" user add --admin --display-name 管理员 admin \
  --data "$tmp/data" --key-file "$tmp/key" >/dev/null

"$KEHU_BIN" serve --data "$tmp/data" --key-file "$tmp/key" --listen "127.0.0.1:$port" \
  --web-dir "$WEB_DIR" >"$tmp/serve.log" 2>&1 &
pid=$!

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$url/healthz"; then break; fi
  kill -0 "$pid" 2>/dev/null || { echo "run.sh: kehu serve exited at start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
  sleep 0.2
done

echo "== web UI tests against $url"
status=0
KEHU_URL="$url" KEHU_ADMIN_USER=admin KEHU_ADMIN_PASSWORD="$password" KEHU_CHROMIUM="$CHROMIUM" \
  node --test --test-concurrency=1 --test-reporter=spec ${KEHU_WEB_TESTS:-./*.test.mjs} || status=1

if ! kill -0 "$pid" 2>/dev/null; then
  echo "run.sh: kehu serve died during the test" >&2
  status=1
fi
if [[ "$status" != 0 ]]; then
  echo "---- last lines of the server log ($tmp/serve.log)" >&2
  tail -n 40 "$tmp/serve.log" >&2 || true
fi
exit "$status"
