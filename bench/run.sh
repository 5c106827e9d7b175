#!/usr/bin/env bash
# The load benchmark of docs/PERFORMANCE.md, in one command, from the repository root:
#
#   bash bench/run.sh
#
# Knobs: BENCH_SECONDS (default 10, 3..15), BENCH_RUNS (default 3), BENCH_SKIP_SCALE=1,
# BENCH_SCALE_SIZES (user counts for admin_search, default its own: 1000 1000000),
# BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_PEER_SRC (the
# node-oidc-provider peer, default ../shared/peers/oidc-provider next to the repository).
#
# Runs Latchkey on SQLite, Latchkey on PostgreSQL and node-oidc-provider side by side on
# 127.0.0.1, measures them interleaved (figure, run, system), and writes
# bench/out/results.json. Every process it starts is stopped by PID on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

S="${BENCH_SECONDS:-10}"
RUNS="${BENCH_RUNS:-3}"
SKIP_SCALE="${BENCH_SKIP_SCALE:-0}"
read -r -a SCALE_SIZES <<<"${BENCH_SCALE_SIZES:-}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PEER_SRC="${BENCH_PEER_SRC:-$ROOT/../shared/peers/oidc-provider}"
OUT="$ROOT/bench/out"
LOGS="$OUT/logs"
DRIVER="$ROOT/target/release/examples/bench-driver"
LATCHKEY="$ROOT/target/release/latchkey"

EMAIL="alice@example.com"
PASSWORD="correct horse battery staple"
LK_REDIRECT="http://127.0.0.1:9/cb"
PEER_CLIENT="bench-client"
PEER_SECRET="bench-secret-0123456789abcdef"
SYSTEMS=(latchkey-sqlite latchkey-postgres peer)
CONNS=16

log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
warn_loud() {
  echo "" >&2
  echo "!!!!!!!!!! WARNING: $* !!!!!!!!!!" >&2
  echo "" >&2
  echo "$*" >>"$OUT/warnings.txt"
}

[[ "$S" =~ ^[0-9]+$ ]] && ((S >= 3 && S <= 15)) || die "BENCH_SECONDS must be 3..15 (got $S)"
[[ "$RUNS" =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 10)) || die "BENCH_RUNS must be 1..10 (got $RUNS)"

# --- processes: every one we start is recorded here and stopped by PID ---------------------
PIDS=()

stop_pid() { # PID [grace seconds]: SIGTERM, wait for the exit, SIGKILL after the grace
  local pid="$1" grace="${2:-35}" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  log "pid $pid ignored SIGTERM for ${grace}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do stop_pid "$pid" 10; done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# jget KEY: the KEY of the last JSON line on stdin ("null" when absent or unparsable).
jget() {
  python3 -c '
import json, sys
lines = [l for l in sys.stdin.read().splitlines() if l.strip().startswith("{")]
try:
    v = json.loads(lines[-1]).get(sys.argv[1])
except Exception:
    v = None
print("null" if v is None else (v if not isinstance(v, str) else v))' "$1"
}

# record FIGURE SYSTEM RUN VALUE
record() {
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$OUT/figures.tsv"
  log "figure=$1 run=$3 system=$2 value=$4"
}

note() { echo "$*" >>"$OUT/notes.txt"; }

# --- 1. tools and build -----------------------------------------------------------------------
rm -rf "$OUT/latchkey-sqlite" "$OUT/latchkey-postgres" "$LOGS" "$OUT/figures.tsv" \
  "$OUT/notes.txt" "$OUT/warnings.txt" "$OUT/results.json" "$OUT/meta.env" "$OUT/scale-"*.json
mkdir -p "$OUT" "$LOGS"
: >"$OUT/figures.tsv"
: >"$OUT/notes.txt"
: >"$OUT/warnings.txt"
DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

if ! command -v wrk >/dev/null; then
  [[ "$(id -u)" == 0 ]] || die "wrk is missing (apt-get install wrk)"
  log "installing wrk"
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
for tool in node npm psql openssl python3 curl; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done

BUILD=(cargo build --release --bin latchkey --example bench-driver)
[[ "$SKIP_SCALE" == 1 ]] || BUILD+=(--example admin_search)
log "building: ${BUILD[*]}"
"${BUILD[@]}" >&2

# --- 2. the peer (node-oidc-provider) ---------------------------------------------------------
[[ -f "$PEER_SRC/server.mjs" ]] || die "no peer at $PEER_SRC (BENCH_PEER_SRC)"
PEER_DIR="$OUT/peer"
mkdir -p "$PEER_DIR"
rsync -a --exclude node_modules --exclude server.pid --exclude server.log "$PEER_SRC/" "$PEER_DIR/"
if [[ ! -d "$PEER_DIR/node_modules" ]]; then
  log "npm ci in $PEER_DIR"
  (cd "$PEER_DIR" && { npm ci --no-audit --no-fund || npm install --no-audit --no-fund; } >&2)
fi
# The variant used only for userinfo and introspection: the shipped peer issues only
# audience-restricted JWT access tokens (its /me refuses them) and has no introspection.
sed -e 's/defaultResource: () => RESOURCE/defaultResource: () => undefined/' \
  -e 's/^\( *\)revocation: { enabled: true },/&\n\1introspection: { enabled: true },/' \
  "$PEER_DIR/server.mjs" >"$PEER_DIR/server-introspect.mjs"
grep -q 'defaultResource: () => undefined' "$PEER_DIR/server-introspect.mjs" &&
  grep -q 'introspection: { enabled: true },' "$PEER_DIR/server-introspect.mjs" ||
  die "could not derive server-introspect.mjs from the peer's server.mjs"

# --- 3. machine and ceilings ------------------------------------------------------------------
log "machine info"
meta() { printf '%s=%q\n' "$1" "$2" >>"$OUT/meta.env"; }
meta M_CPU "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
meta M_CORES "$(nproc)"
meta M_MEMORY "$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
meta M_KERNEL "$(uname -r)"
meta M_OS "$(. /etc/os-release && echo "$PRETTY_NAME")"
meta M_RUSTC "$(rustc -V)"
meta M_NODE "$(node -v)"
meta M_OIDC "$(node -p "require('$PEER_DIR/node_modules/oidc-provider/package.json').version")"
meta M_PG "$(psql "$PG_URL" -At -c 'show server_version')"
meta M_WRK "$(wrk -v 2>&1 | head -1 | awk '{print $2}')"

log "ceiling: openssl speed rsa2048 (5 s)"
RSA=$(openssl speed -seconds 5 rsa2048 2>/dev/null | awk '/^rsa *2048 bits/ {print $6; exit}')
[[ -n "$RSA" ]] || RSA=null
log "ceiling: argon2id (Latchkey's crate, 5 s)"
ARGON=$("$DRIVER" argon2 --seconds 5 | jget per_s)
log "ceiling: argon2id (@node-rs/argon2, 5 s)"
ARGON_PEER=$(cd "$PEER_DIR" && node -e '
const { hash } = require("@node-rs/argon2");
const o = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
(async () => {
  const t0 = Date.now(); let n = 0;
  while (Date.now() - t0 < 5000 && n < 1e6) { await hash("correct horse battery staple", o); n++; }
  console.log(JSON.stringify({ per_s: Math.round(1000 * n / ((Date.now() - t0) / 1000)) / 1000 }));
})();' | jget per_s)

# wrk_rps LABEL URL [wrk args...]: Requests/sec, or null (loudly) when any request failed.
wrk_rps() {
  local label="$1" url="$2" out="$LOGS/wrk-$1.txt"
  shift 2
  if ! wrk -t2 -c64 -d"${S}s" --latency "$@" "$url" >"$out" 2>&1; then
    warn_loud "wrk failed for $label (see $out): recorded null"
    echo null
    return
  fi
  if grep -q 'Non-2xx or 3xx responses' "$out" || grep -q 'Socket errors' "$out"; then
    warn_loud "$label: $(grep -E 'Non-2xx|Socket errors' "$out" | tr '\n' ' ')(see $out): recorded null"
    echo null
    return
  fi
  local rps
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  echo "${rps:-null}"
}

# start_proc NAME READY_URL [driver start options...] -- CMD...: prints ready_ms, sets PID_OF[NAME]
declare -A PID_OF
start_proc() {
  local name="$1" url="$2" out
  shift 2
  out=$("$DRIVER" start --url "$url" --pidfile "$OUT/$name.pid" --log "$LOGS/$name.log" "$@") ||
    die "$name did not start (see $LOGS/$name.log)"
  PID_OF[$name]=$(cat "$OUT/$name.pid")
  PIDS+=("${PID_OF[$name]}")
  READY_MS=$(echo "$out" | jget ready_ms)
}

stop_proc() {
  local pid="${PID_OF[$1]}"
  stop_pid "$pid"
  forget_pid "$pid"
  unset "PID_OF[$1]"
}

log "ceiling: trivial actix-web JSON endpoint (wrk ${S}s)"
HELLO_PORT=$(free_port)
start_proc hello "http://127.0.0.1:$HELLO_PORT/" -- "$DRIVER" hello --port "$HELLO_PORT" --workers 2
ACTIX=$(wrk_rps actix-hello "http://127.0.0.1:$HELLO_PORT/")
stop_proc hello
log "ceilings: rsa2048 $RSA sign/s, argon2id $ARGON/s (peer $ARGON_PEER/s), actix $ACTIX req/s"

# --- 4. systems -------------------------------------------------------------------------------
declare -A PORT BASE DBURL CLIENT_ID SECRET REDIRECT TARGET
for sys in latchkey-sqlite latchkey-postgres peer peer-introspect; do
  p=$(free_port)
  while [[ " ${PORT[*]} " == *" $p "* ]]; do p=$(free_port); done
  PORT[$sys]=$p
  BASE[$sys]="http://127.0.0.1:$p"
done
DBURL[latchkey-sqlite]="sqlite://$OUT/latchkey-sqlite/data/latchkey.db"
DBURL[latchkey-postgres]=$(python3 -c '
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/latchkey_bench")))' "$PG_URL")
for sys in peer peer-introspect; do
  TARGET[$sys]=peer
  CLIENT_ID[$sys]=$PEER_CLIENT
  SECRET[$sys]=$PEER_SECRET
  REDIRECT[$sys]="${BASE[$sys]}/cb"
done

lk_env() { # fills LKENV with the environment of Latchkey system $1
  local d="$OUT/$1"
  LKENV=("LATCHKEY_BIND=127.0.0.1:${PORT[$1]}" "LATCHKEY_ISSUER=${BASE[$1]}" "DATABASE_URL=${DBURL[$1]}"
    "LATCHKEY_DATA_DIR=$d/data" "LATCHKEY_KEYS_DIR=$d/keys" "RUST_LOG=warn" "LATCHKEY_LOGIN_RATE=1000000")
}

start_latchkey() {
  local args=() kv
  lk_env "$1"
  for kv in "${LKENV[@]}"; do args+=(--env "$kv"); done
  # Its own folder as working directory, so no stray .env is read.
  start_proc "$1" "${BASE[$1]}/readyz" --cwd "$OUT/$1" "${args[@]}" -- "$LATCHKEY" serve
}

lk_cli() { # SYSTEM ARGS...: the Latchkey CLI with the system's environment (stdin passed on)
  local sys="$1"
  shift
  lk_env "$sys"
  (cd "$OUT/$sys" && env "${LKENV[@]}" "$LATCHKEY" "$@")
}

start_peer() { # NAME SCRIPT
  start_proc "$1" "${BASE[$1]}/.well-known/openid-configuration" --cwd "$PEER_DIR" \
    --env NODE_ENV=production --env "PORT=${PORT[$1]}" -- node "$2"
}

rss_mb() { # PID FIELD (VmRSS or VmHWM) in MB
  awk -v f="$2:" '$1 == f {printf "%.1f", $2 / 1024}' "/proc/$1/status"
}

log "PostgreSQL: fresh database latchkey_bench"
psql "$PG_URL" -v ON_ERROR_STOP=1 -q -c 'DROP DATABASE IF EXISTS latchkey_bench WITH (FORCE)' \
  -c 'CREATE DATABASE latchkey_bench' >&2

for sys in latchkey-sqlite latchkey-postgres; do
  mkdir -p "$OUT/$sys/data" "$OUT/$sys/keys"
  log "$sys: first start (database, migrations, signing key)"
  start_latchkey "$sys"
  stop_proc "$sys"
  client=$(lk_cli "$sys" client create --name bench --redirect-uri "$LK_REDIRECT" --skip-consent --json </dev/null)
  CLIENT_ID[$sys]=$(echo "$client" | jget client_id)
  SECRET[$sys]=$(echo "$client" | jget client_secret)
  [[ "${CLIENT_ID[$sys]}" != null && "${SECRET[$sys]}" != null ]] || die "$sys: client create gave $client"
  printf '%s\n' "$PASSWORD" | lk_cli "$sys" user create --email "$EMAIL" --password-stdin --verified --json >/dev/null
  TARGET[$sys]=latchkey
  REDIRECT[$sys]=$LK_REDIRECT
  for i in 1 2 3; do
    ((i == 1)) || stop_proc "$sys"
    start_latchkey "$sys"
    record ready_ms "$sys" "$i" "$READY_MS"
  done
done
for i in 1 2 3; do
  ((i == 1)) || stop_proc peer
  start_peer peer server.mjs
  record ready_ms peer "$i" "$READY_MS"
done
start_peer peer-introspect server-introspect.mjs
for sys in "${SYSTEMS[@]}"; do
  record rss_idle_mb "$sys" 1 "$(rss_mb "${PID_OF[$sys]}" VmRSS)"
done

auth_args() { # SYSTEM: the driver's sign-in arguments
  AUTH=(--target "${TARGET[$1]}" --base "${BASE[$1]}" --client-id "${CLIENT_ID[$1]}" --secret "${SECRET[$1]}"
    --email "$EMAIL" --password "$PASSWORD" --redirect "${REDIRECT[$1]}")
}

# RS256 JWTs in one refresh response (access, id and refresh token), counted, not assumed.
declare -A SIGS
for sys in latchkey-sqlite peer; do
  auth_args "$sys"
  SIGS[$sys]=$("$DRIVER" tokens "${AUTH[@]}" --count-refresh-jwts | jget refresh_jwts)
  log "$sys: ${SIGS[$sys]} RS256 JWTs per refresh response"
done

# The variant must really serve userinfo and introspection for its access tokens.
auth_args peer-introspect
AT=$("$DRIVER" tokens "${AUTH[@]}" | jget access_token)
code=$(curl -s -o "$LOGS/peer-me.json" -w '%{http_code}' -H "Authorization: Bearer $AT" "${BASE[peer-introspect]}/me")
[[ "$code" == 200 ]] || die "peer variant: /me answered $code: $(cat "$LOGS/peer-me.json")"
curl -s -u "$PEER_CLIENT:$PEER_SECRET" --data-urlencode "token=$AT" \
  "${BASE[peer-introspect]}/token/introspection" >"$LOGS/peer-introspection.json"
grep -q '"active":true' "$LOGS/peer-introspection.json" ||
  die "peer variant: introspection says $(cat "$LOGS/peer-introspection.json")"
log "peer variant: /me 200 and introspection active:true"

# --- 5. figures, interleaved ------------------------------------------------------------------
url_of() { # SYSTEM WHAT
  case "$2" in
    discovery) echo "${BASE[$1]}/.well-known/openid-configuration" ;;
    jwks) [[ "${TARGET[$1]}" == latchkey ]] && echo "${BASE[$1]}/.well-known/jwks.json" || echo "${BASE[$1]}/jwks" ;;
    userinfo) [[ "${TARGET[$1]}" == latchkey ]] && echo "${BASE[$1]}/userinfo" || echo "${BASE[$1]}/me" ;;
    introspection) [[ "${TARGET[$1]}" == latchkey ]] && echo "${BASE[$1]}/introspect" || echo "${BASE[$1]}/token/introspection" ;;
  esac
}

token_system() { # the process serving userinfo and introspection for SYSTEM
  [[ "$1" == peer ]] && echo peer-introspect || echo "$1"
}

declare -A AT_OF
fetch_access_tokens() {
  local sys ts
  for sys in "${SYSTEMS[@]}"; do
    ts=$(token_system "$sys")
    auth_args "$ts"
    AT_OF[$sys]=$("$DRIVER" tokens "${AUTH[@]}" | jget access_token)
    [[ "${AT_OF[$sys]}" != null ]] || die "no access token from $ts"
  done
}

# driver_figure LABEL KEY FAILKEY CMD...: runs a driver measurement, prints KEY (null on error).
driver_figure() {
  local label="$1" key="$2" out="$LOGS/$1.json"
  shift 2
  if ! "$@" >"$out"; then
    warn_loud "$label: the driver failed: recorded null"
    echo null
    return
  fi
  local failed
  failed=$(jget failed <"$out")
  if [[ "$failed" != 0 && "$failed" != null ]]; then
    warn_loud "$label: $failed failed (not counted in the rate; see stderr above)"
  fi
  jget "$key" <"$out"
}

measure() { # FIGURE SYSTEM RUN
  local fig="$1" sys="$2" run="$3" ts label="$1-$2-$3" v
  ts=$(token_system "$sys")
  case "$fig" in
    discovery_rps) v=$(wrk_rps "$label" "$(url_of "$sys" discovery)") ;;
    jwks_rps) v=$(wrk_rps "$label" "$(url_of "$sys" jwks)") ;;
    userinfo_rps)
      v=$(wrk_rps "$label" "$(url_of "$ts" userinfo)" -H "Authorization: Bearer ${AT_OF[$sys]}")
      ;;
    introspection_rps)
      local basic
      basic=$(printf '%s:%s' "${CLIENT_ID[$ts]}" "${SECRET[$ts]}" | base64 -w0)
      export INTROSPECT_TOKEN="${AT_OF[$sys]}" INTROSPECT_AUTH="Basic $basic"
      v=$(wrk_rps "$label" "$(url_of "$ts" introspection)" -s "$ROOT/bench/introspect.lua")
      ;;
    refresh_rps)
      auth_args "$sys"
      v=$(driver_figure "$label" rate "$DRIVER" refresh "${AUTH[@]}" --conns "$CONNS" --seconds "$S")
      ;;
    signin_rps)
      auth_args "$sys"
      v=$(driver_figure "$label" rate "$DRIVER" signin "${AUTH[@]}" --conns "$CONNS" --seconds "$S")
      record signin_p95_ms "$sys" "$run" "$(jget p95_ms <"$LOGS/$label.json")"
      ;;
    jwks_p99_idle_ms)
      v=$(driver_figure "$label" p99_ms "$DRIVER" probe --url "$(url_of "$sys" jwks)" --seconds "$S" --interval-ms 2)
      ;;
    jwks_p99_storm_ms)
      auth_args "$sys"
      "$DRIVER" signin "${AUTH[@]}" --conns "$CONNS" --seconds "$S" >"$LOGS/storm-$label.json" &
      local storm=$!
      PIDS+=("$storm")
      sleep 1
      v=$(driver_figure "$label" p99_ms "$DRIVER" probe --url "$(url_of "$sys" jwks)" --seconds $((S - 2)) --interval-ms 2)
      local storm_rps=null
      if wait "$storm"; then
        storm_rps=$(jget rate <"$LOGS/storm-$label.json")
        local sf
        sf=$(jget failed <"$LOGS/storm-$label.json")
        [[ "$sf" == 0 ]] || warn_loud "storm $label: $sf sign-ins failed"
      else
        warn_loud "storm $label: the driver failed: recorded null"
      fi
      forget_pid "$storm"
      record storm_signin_rps "$sys" "$run" "$storm_rps"
      ;;
  esac
  if [[ "$v" == null ]]; then
    note "$fig $sys run $run: null (failed run)"
  fi
  record "$fig" "$sys" "$run" "$v"
}

# Warm-up, not recorded: 1 s of each GET figure per system (the peer's JIT, caches).
for sys in "${SYSTEMS[@]}"; do
  for what in discovery jwks; do
    wrk -t2 -c64 -d1s "$(url_of "$sys" "$what")" >"$LOGS/warmup-$what-$sys.txt" 2>&1 || true
  done
done

FIGURES=(discovery_rps jwks_rps userinfo_rps introspection_rps refresh_rps signin_rps jwks_p99_idle_ms jwks_p99_storm_ms)
for fig in "${FIGURES[@]}"; do
  # Fresh access tokens (15 min lifetime) right before the figures that use them.
  [[ "$fig" == userinfo_rps || "$fig" == introspection_rps ]] && fetch_access_tokens
  for ((run = 1; run <= RUNS; run++)); do
    for sys in "${SYSTEMS[@]}"; do
      measure "$fig" "$sys" "$run"
    done
  done
done

# --- 6. memory after the load -----------------------------------------------------------------
for sys in "${SYSTEMS[@]}"; do
  record rss_after_mb "$sys" 1 "$(rss_mb "${PID_OF[$sys]}" VmRSS)"
  record peak_mb "$sys" 1 "$(rss_mb "${PID_OF[$sys]}" VmHWM)"
done

# --- 7. scale (admin_search) ------------------------------------------------------------------
echo null >"$OUT/scale-sqlite.json"
echo null >"$OUT/scale-postgres.json"
if [[ "$SKIP_SCALE" == 1 ]]; then
  note "scale skipped (BENCH_SKIP_SCALE=1)"
else
  scale() { # NAME [env...]
    local name="$1" line
    shift
    log "scale: admin_search --json ($name)"
    if line=$(env "$@" "$ROOT/target/release/examples/admin_search" --json "${SCALE_SIZES[@]}" | tail -n 1) &&
      echo "$line" | python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); assert isinstance(d, dict)'; then
      echo "$line" >"$OUT/scale-$name.json"
      log "scale $name: $line"
    else
      warn_loud "admin_search --json ($name) failed: scale.$name is null"
    fi
  }
  scale sqlite
  scale postgres "BENCH_DATABASE_URL=$PG_URL"
fi

# --- 8. results.json --------------------------------------------------------------------------
while IFS= read -r w; do [[ -z "$w" ]] || note "warning: $w"; done <"$OUT/warnings.txt"
export DATE S RUNS RSA ARGON ARGON_PEER ACTIX OUT
export SIGS_LK="${SIGS[latchkey-sqlite]}" SIGS_PEER="${SIGS[peer]}"
set -a
# shellcheck disable=SC1091
. "$OUT/meta.env"
set +a
python3 - <<'PY'
import json, os

env = os.environ
out = env["OUT"]
runs = int(env["RUNS"])
systems = ["latchkey-sqlite", "latchkey-postgres", "peer"]

def num(s):
    if s in (None, "", "null"):
        return None
    try:
        x = float(s)
    except ValueError:
        return None
    return int(x) if x.is_integer() and "." not in s else x

per_run = ["discovery_rps", "jwks_rps", "refresh_rps", "signin_rps", "signin_p95_ms",
           "userinfo_rps", "introspection_rps", "jwks_p99_idle_ms", "jwks_p99_storm_ms",
           "storm_signin_rps"]
single = ["rss_idle_mb", "rss_after_mb", "peak_mb"]
rows = {}
with open(f"{out}/figures.tsv") as f:
    for line in f:
        fig, system, run, value = line.rstrip("\n").split("\t")
        rows[(fig, system, int(run))] = num(value)

figures = {}
for fig in per_run:
    figures[fig] = {s: [rows.get((fig, s, r)) for r in range(1, runs + 1)] for s in systems}
figures["ready_ms"] = {s: [rows.get(("ready_ms", s, r)) for r in range(1, 4)] for s in systems}
for fig in single:
    figures[fig] = {s: rows.get((fig, s, 1)) for s in systems}

def scale(name):
    with open(f"{out}/scale-{name}.json") as f:
        return json.loads(f.read())

notes = [
    "Each figure is measured interleaved: for each figure, for each run, each system in turn; all systems run at once on 127.0.0.1.",
    "GET figures: wrk -t2 -c64 --latency; a run with any non-2xx/3xx response or socket error is recorded as null.",
    "Sign-ins: 16 connections, each flow a fresh browser session (argon2id every time). Latchkey: /authorize, /login, redirect with code (first-party client, no consent). Peer: /auth, login interaction, consent interaction (prompt=consent, required for offline_access), redirect with code. Then the code exchange with client_secret_basic.",
    "Refresh: 16 connections, each chaining its own refresh token (rotation on every use); only the chain is timed.",
    "Peer userinfo and introspection figures come from a variant of the peer (server-introspect.mjs: no default resource, so opaque access tokens its /me accepts, and introspection enabled); every other peer figure uses the shipped server.mjs.",
    "jwks_p99_storm_ms: probe of the JWKS (one connection, one GET every 2 ms) during a 16-connection sign-in storm; storm_signin_rps is that storm's rate.",
    "ready_ms: three starts on an existing database (Latchkey) or from scratch (peer, which generates its RSA key and an argon2 hash at start).",
    "Before the figures, each system gets 1 s of unrecorded wrk load on its discovery document and JWKS (warm-up).",
    "LATCHKEY_LOGIN_RATE=1000000: the per-IP sign-in rate limit would otherwise stop a storm from one IP.",
]
with open(f"{out}/notes.txt") as f:
    notes += [l.rstrip("\n") for l in f if l.strip()]

result = {
    "date": env["DATE"],
    "command": "bash bench/run.sh",
    "seconds_per_run": int(env["S"]),
    "runs": runs,
    "machine": {
        "cpu": env["M_CPU"], "cores": int(env["M_CORES"]), "memory": env["M_MEMORY"],
        "kernel": env["M_KERNEL"], "os": env["M_OS"], "rustc": env["M_RUSTC"], "node": env["M_NODE"],
        "oidc_provider": env["M_OIDC"], "postgres": env["M_PG"], "wrk": env["M_WRK"],
    },
    "ceilings": {
        "rsa2048_signs_per_s_per_core": num(env["RSA"]),
        "argon2id_hashes_per_s_per_core": num(env["ARGON"]),
        "argon2id_hashes_per_s_per_core_peer": num(env["ARGON_PEER"]),
        "actix_json_req_per_s": num(env["ACTIX"]),
    },
    "signatures_per_refresh": {"latchkey": num(env["SIGS_LK"]), "peer": num(env["SIGS_PEER"])},
    "systems": systems,
    "figures": figures,
    "scale": {"sqlite": scale("sqlite"), "postgres": scale("postgres")},
    "notes": notes,
}
with open(f"{out}/results.json", "w") as f:
    json.dump(result, f, indent=1)
    f.write("\n")
PY
log "wrote $OUT/results.json"

# --- 9. report --------------------------------------------------------------------------------
for sys in "${SYSTEMS[@]}" peer-introspect; do stop_proc "$sys"; done
if [[ -f "$ROOT/bench/report.py" ]]; then
  python3 "$ROOT/bench/report.py" "$OUT/results.json"
fi
log "results: $OUT/results.json (logs in $LOGS)"
