#!/usr/bin/env bash
# The real `strata serve` binary over loopback: start, write, search, snapshot, SIGTERM (clean
# stop), restart with the same answers, `strata restore` into another data directory, HTTPS with
# an API key, and refusals of bad flags. Usage: serve_cli_test.sh (STRATA_BIN set by CTest).
set -euo pipefail
bin=${STRATA_BIN:?STRATA_BIN must point at the strata binary}
work=$(mktemp -d)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f "$work/log" ]] && tail -20 "$work/log" >&2; exit 1; }

# start DATA_DIR [flags...]: runs the server on a free port; sets pid and port.
start() {
  local dir=$1
  shift
  "$bin" serve --data-dir "$dir" --port 0 --warmup-seconds 5 "$@" >"$work/out" 2>"$work/log" &
  pid=$!
  for _ in $(seq 1 100); do
    if grep -q "listening on" "$work/out" 2>/dev/null; then
      port=$(sed -n 's/.*listening on [a-z]*:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/out")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || fail "server exited: $(cat "$work/log")"
    sleep 0.1
  done
  fail "server did not start"
}
stop() {
  kill -TERM "$pid"
  wait "$pid" || fail "server exited with $? on SIGTERM"
  pid=
  grep -q "stopped cleanly" "$work/log" || fail "no clean stop in the log"
}
api() {  # api METHOD PATH [BODY]: prints the body, fails on a non-2xx status
  local code
  code=$(curl -s -o "$work/body" -w '%{http_code}' -X "$1" "http://127.0.0.1:$port$2" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"})
  [[ "$code" == 2* ]] || fail "$1 $2 -> $code $(cat "$work/body")"
  cat "$work/body"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
wait_ready() {
  for _ in $(seq 1 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz") == 200 ]] && return 0
    sleep 0.1
  done
  fail "never ready"
}

data="$work/data"
start "$data"
api PUT /collections/docs '{"vectors": {"size": 4, "distance": "Cosine"}}' >/dev/null
points=$(python3 -c '
import json, random
random.seed(5)
print(json.dumps({"points": [{"id": i, "vector": [random.random() + 0.01 for _ in range(4)],
                              "payload": {"title": "doc %d" % i}} for i in range(300)]}))')
api PUT /collections/docs/points "$points" >/dev/null
query='{"vector": [0.1, 0.9, 0.3, 0.5], "limit": 5, "with_payload": true}'
before=$(api POST /collections/docs/points/search "$query" | field "['result']")
snap=$(api POST /collections/docs/snapshots | field "['result']['name']")
api POST /collections/docs/points/delete '{"points": [0, 1, 2]}' >/dev/null
after_delete=$(api POST /collections/docs/points/search "$query" | field "['result']")
stop

start "$data"
wait_ready
[[ $(api POST /collections/docs/points/search "$query" | field "['result']") == "$after_delete" ]] ||
  fail "answers changed across the restart"
[[ $(api GET /collections/docs/points/7 | field "['result']['payload']['title']") == "doc 7" ]] ||
  fail "payload lost across the restart"
[[ $(api GET /collections/docs | field "['result']['points_count']") == 297 ]] || fail "count"
stop

# The snapshot, restored offline into another data directory, answers as before the deletes.
"$bin" restore "$data/snapshots/docs/$snap" --data-dir "$work/data2" --collection copy >/dev/null
if "$bin" restore "$data/snapshots/docs/$snap" --data-dir "$work/data2" --collection copy 2>"$work/err"; then
  fail "restore over an existing collection succeeded"
fi
grep -q "already exists\|exists in" "$work/err" || fail "restore refusal: $(cat "$work/err")"
start "$work/data2"
[[ $(api POST /collections/copy/points/search "$query" | field "['result']") == "$before" ]] ||
  fail "restored snapshot answers differently"
stop

# HTTPS with keys.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 \
  -subj "/CN=127.0.0.1" >/dev/null 2>&1
start "$data" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --api-key s3cret \
  --read-only-key r3ad
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/collections" -H 'api-key: s3cret')
[[ "$code" == 200 ]] || fail "https with the key -> $code"
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/collections")
[[ "$code" == 401 ]] || fail "https without a key -> $code"
code=$(curl -sk -o /dev/null -w '%{http_code}' -X DELETE "https://127.0.0.1:$port/collections/docs" \
  -H 'Authorization: Bearer r3ad')
[[ "$code" == 403 ]] || fail "read-only key deleting -> $code"
if curl -s -m 5 -o /dev/null "http://127.0.0.1:$port/healthz"; then fail "plain HTTP on the TLS port"; fi
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/healthz")
[[ "$code" == 200 ]] || fail "probe over https -> $code"
busy=$port
# A second server on the same port is refused with a clear error.
if "$bin" serve --data-dir "$work/data3" --port "$busy" 2>"$work/err" >/dev/null; then
  fail "second server on a busy port started"
fi
grep -q "cannot listen" "$work/err" || fail "busy port message: $(cat "$work/err")"
stop

# A config file sets flags (TOML): here the API key.
printf '# strata serve\napi-key = "fromconfig"  # full access\nqueue = 32\nio_threads = 1\n' >"$work/serve.toml"
start "$data" --config "$work/serve.toml"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/collections")
[[ "$code" == 401 ]] || fail "config api-key not applied: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/collections" -H 'api-key: fromconfig')
[[ "$code" == 200 ]] || fail "config api-key -> $code"
grep -q "queue 32" "$work/log" || fail "config queue not applied"
stop

# Bad flags change nothing and say why.
printf 'no-such-flag = 1\n' >"$work/bad.toml"
if "$bin" serve --data-dir "$work/data4" --config "$work/bad.toml" 2>"$work/err"; then fail "bad config"; fi
grep -q "bad.toml:1: 'no-such-flag' is not a flag" "$work/err" || fail "config message: $(cat "$work/err")"
if "$bin" serve --data-dir "$work/data4" --tls-cert "$work/cert.pem" 2>"$work/err"; then fail "half TLS"; fi
grep -q "both --tls-cert and --tls-key" "$work/err" || fail "TLS message: $(cat "$work/err")"
if "$bin" serve --data-dir "$work/data4" --host not-an-ip 2>"$work/err"; then fail "bad host"; fi
grep -q "not an IP address" "$work/err" || fail "host message: $(cat "$work/err")"
echo "serve CLI: ok"
