#!/usr/bin/env bash
# vigil proxy against Verdaccio 6, side by side in one run, as caching proxies of the same static local upstream.
# Built on ../shared/bench/verdaccio (its upstream.go, prepare_upstream.py, config.yaml and wrk-summary.lua, and the
# same steps as its run-baseline.sh), with vigil proxy as a third server:
#   1. the local upstream: ~20 real packuments and their latest tarballs (downloaded once with curl from
#      `npm config get registry`), tarball URLs rewritten to the upstream, served by upstream.go on loopback;
#   2. Verdaccio and vigil proxy, each with a fresh cache/storage and that upstream as their only uplink, warmed by
#      fetching every packument and tarball through them once; tarballs checked against their integrity; a second
#      pass must not reach the upstream;
#   3. wrk against a cached packument (/react), the largest cached packument, and a cached tarball (lodash), through
#      Verdaccio, through vigil proxy and directly against the upstream, target by target (same wrk settings);
#   4. npm install react lodash through each proxy.
# Usage: bench/proxy-vs-verdaccio.sh [path/to/vigil]   (default: builds bin/vigil)
# Environment (defaults): SHARED (../shared from the repository root), UPSTREAM_DIR (/tmp/upstream),
#   VERDACCIO_DIR (/tmp/verdaccio), UPSTREAM_PORT (4874), VERDACCIO_PORT (4873), VIGIL_PORT (4875), THREADS (2),
#   CONNECTIONS (64), DURATION (20s), WARMUP (5s), WRK_TIMEOUT (30s), SERIAL_DURATION (10s), OUT
#   (/tmp/proxy-bench-<timestamp>).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
here=$shared/bench/verdaccio
if [ ! -d "$here" ]; then
  echo "proxy-vs-verdaccio: $here is absent; this benchmark needs ../shared/bench/verdaccio (the evaluation harness)" >&2
  exit 2
fi
vigil=${1:-}
if [ -z "$vigil" ]; then
  (cd "$repo" && go build -o bin/vigil ./cmd/vigil)
  vigil=$repo/bin/vigil
fi
vigil_port=${VIGIL_PORT:-4875}
vigil_url=http://127.0.0.1:$vigil_port
upstream_dir=${UPSTREAM_DIR:-/tmp/upstream}
verdaccio_dir=${VERDACCIO_DIR:-/tmp/verdaccio}
uport=${UPSTREAM_PORT:-4874}
vport=${VERDACCIO_PORT:-4873}
threads=${THREADS:-2}
conns=${CONNECTIONS:-64}
duration=${DURATION:-20s}
warmup=${WARMUP:-5s}
wrk_timeout=${WRK_TIMEOUT:-30s}
serial_duration=${SERIAL_DURATION:-10s}
out=${OUT:-/tmp/proxy-bench-$(date +%Y%m%d-%H%M%S)}
upstream_url=http://127.0.0.1:$uport
verdaccio_url=http://127.0.0.1:$vport
packages=(react lodash express debug chalk typescript @types/node next webpack @babel/core eslint axios moment vue
  rxjs zod uuid commander yargs semver)
corgi='Accept: application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

for tool in node npm wrk curl python3 go time; do
  type -P "$tool" >/dev/null || { echo "proxy-vs-verdaccio: $tool is required (wrk: apt-get install -y wrk; time: apt-get install -y time)" >&2; exit 1; }
done
for port in "$uport" "$vport" "$vigil_port"; do
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
    echo "proxy-vs-verdaccio: something already listens on 127.0.0.1:$port; stop it or pick another port" >&2; exit 1
  fi
done
mkdir -p "$out"
log() { printf '[%s] %s\n' "$(date +%T)" "$*" | tee -a "$out/run.log" >&2; }

upstream_pid= verdaccio_pid= vigil_pid=
stop_servers() {
  for pid in $vigil_pid $verdaccio_pid $upstream_pid; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  done
}
trap stop_servers EXIT

wait_for() { # url seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fs -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  echo "proxy-vs-verdaccio: $1 did not answer within $2 s" >&2; return 1
}

# ---- 1. the local upstream -------------------------------------------------------------------------------
registry=$(npm config get registry); registry=${registry%/}/
mkdir -p "$upstream_dir/raw" "$upstream_dir/root"
log "packuments from the npm registry (once; cached under $upstream_dir/raw)"
for pkg in "${packages[@]}"; do
  raw="$upstream_dir/raw/${pkg//\//%2f}.json"
  if [ ! -s "$raw" ]; then
    curl -fsS --retry 3 -o "$raw.part" "$registry${pkg//\//%2f}"
    mv "$raw.part" "$raw"
  fi
done
python3 "$here/prepare_upstream.py" rewrite --raw "$upstream_dir/raw" --root "$upstream_dir/root" \
  --base "$upstream_url" >"$upstream_dir/tarballs.tsv"
log "latest tarballs (once)"
while IFS=$'\t' read -r _ _ rel _; do
  tgz="$upstream_dir/root/tarballs/$rel"
  if [ ! -s "$tgz" ]; then
    mkdir -p "$(dirname "$tgz")"
    curl -fsS --retry 3 -o "$tgz.part" "$registry$rel"
    mv "$tgz.part" "$tgz"
  fi
done <"$upstream_dir/tarballs.tsv"
python3 "$here/prepare_upstream.py" verify --root "$upstream_dir/root" --manifest "$upstream_dir/tarballs.tsv"
go build -o "$upstream_dir/upstream" "$here/upstream.go"
"$upstream_dir/upstream" -addr "127.0.0.1:$uport" -root "$upstream_dir/root" >"$out/upstream.log" 2>&1 &
upstream_pid=$!
wait_for "$upstream_url/-/upstream/stats" 30
log "upstream pid $upstream_pid on $upstream_url: $(wc -l <"$upstream_dir/tarballs.tsv") packuments and tarballs"

# ---- 2. Verdaccio, fresh storage, warmed cache --------------------------------------------------------------
if [ ! -e "$verdaccio_dir/node_modules/verdaccio/package.json" ]; then
  log "installing verdaccio@6 under $verdaccio_dir"
  mkdir -p "$verdaccio_dir"
  # verdaccio-audit asks for node-fetch@cjs, a dist-tag that registry mirrors may not carry; 2.7.0 is its target.
  [ -e "$verdaccio_dir/package.json" ] || cat >"$verdaccio_dir/package.json" <<'EOF'
{ "name": "verdaccio-bench", "private": true, "overrides": { "node-fetch@cjs": "2.7.0" } }
EOF
  npm install --prefix "$verdaccio_dir" verdaccio@6 >"$out/npm-install-verdaccio.log" 2>&1
fi
rm -rf "$verdaccio_dir/storage" "$verdaccio_dir/htpasswd" "$verdaccio_dir/verdaccio.log"
sed -e "s#127\.0\.0\.1:4874#127.0.0.1:$uport#" -e "s#127\.0\.0\.1:4873#127.0.0.1:$vport#" \
  "$here/config.yaml" >"$verdaccio_dir/config.yaml"
# NODE_ENV=production as in Verdaccio's own container image; exec keeps $! the PID of the node process.
(cd "$verdaccio_dir" && NODE_ENV=production exec node node_modules/verdaccio/bin/verdaccio --config ./config.yaml \
  >"$out/verdaccio.stdout" 2>&1) &
verdaccio_pid=$!
wait_for "$verdaccio_url/-/ping" 60
log "verdaccio $(node -p "require('$verdaccio_dir/node_modules/verdaccio/package.json').version") pid $verdaccio_pid on $verdaccio_url"

log "warming Verdaccio's cache: every packument and tarball once"
rm -rf "$out/via-verdaccio"
for pkg in "${packages[@]}"; do
  curl -fsS -o /dev/null "$verdaccio_url/${pkg//\//%2f}"
done
while IFS=$'\t' read -r _ _ rel _; do
  mkdir -p "$(dirname "$out/via-verdaccio/tarballs/$rel")"
  curl -fsS -o "$out/via-verdaccio/tarballs/$rel" "$verdaccio_url/$rel"
done <"$upstream_dir/tarballs.tsv"
python3 "$here/prepare_upstream.py" verify --root "$out/via-verdaccio" --manifest "$upstream_dir/tarballs.tsv"
# A second pass must be answered from the cache: the upstream's request count may not move.
before=$(curl -fs "$upstream_url/-/upstream/stats")
for pkg in "${packages[@]}"; do curl -fsS -o /dev/null "$verdaccio_url/${pkg//\//%2f}"; done
after=$(curl -fs "$upstream_url/-/upstream/stats")
[ "$before" = "$after" ] || { echo "proxy-vs-verdaccio: cached packuments still reached the upstream ($before -> $after)" >&2; exit 1; }

# ---- 2b. vigil proxy, fresh cache and store, warmed cache ------------------------------------------------------
vigil_dir=$out/vigil
rm -rf "$vigil_dir"; mkdir -p "$vigil_dir"
VIGIL_DB="$vigil_dir/db" "$vigil" proxy --upstream "$upstream_url/" --listen "127.0.0.1:$vigil_port" \
  --cache-dir "$vigil_dir/cache" --store "sqlite://$vigil_dir/vigil.db" >"$out/vigil.stdout" 2>&1 &
vigil_pid=$!
wait_for "$vigil_url/-/ping" 60
log "vigil proxy pid $vigil_pid on $vigil_url ($("$vigil" --version 2>/dev/null | head -n1))"
log "warming vigil proxy's cache: every packument and tarball once"
rm -rf "$out/via-vigil"
for pkg in "${packages[@]}"; do
  curl -fsS -o /dev/null "$vigil_url/${pkg//\//%2f}"
  curl -fsS -o /dev/null -H "$corgi" "$vigil_url/${pkg//\//%2f}"
done
while IFS=$'\t' read -r _ _ rel _; do
  mkdir -p "$(dirname "$out/via-vigil/tarballs/$rel")"
  curl -fsS -o "$out/via-vigil/tarballs/$rel" "$vigil_url/$rel"
done <"$upstream_dir/tarballs.tsv"
python3 "$here/prepare_upstream.py" verify --root "$out/via-vigil" --manifest "$upstream_dir/tarballs.tsv"
before=$(curl -fs "$upstream_url/-/upstream/stats")
for pkg in "${packages[@]}"; do curl -fsS -o /dev/null "$vigil_url/${pkg//\//%2f}"; done
after=$(curl -fs "$upstream_url/-/upstream/stats")
[ "$before" = "$after" ] || log "WARNING: vigil's cached packuments still reached the upstream ($before -> $after)"

# ---- 3. wrk ------------------------------------------------------------------------------------------------
size() { stat -c %s "$1"; }
large=typescript
if [ "$(size "$upstream_dir/root/packuments/@types/node.json")" -gt "$(size "$upstream_dir/root/packuments/typescript.json")" ]; then
  large=@types/node
fi
large_path=/${large//\//%2f}
lodash_path=/$(awk -F'\t' '$1 == "lodash" {print $3}' "$upstream_dir/tarballs.tsv")
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system time of all the process's threads
peak_rss_mib() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
served() { curl -fs "$upstream_url/-/upstream/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["served"])'; }
# A server keeps working on requests whose client has gone (wrk closes its connections when its time is up),
# so a run can leave a backlog behind. drain waits until the process uses under 5% of a core for a whole
# second, so that no run inherits the previous one's work, and prints how many seconds that took.
drain() {
  local pid=$1 start=$SECONDS a b
  while :; do
    a=$(cpu_ticks "$pid"); sleep 1; b=$(cpu_ticks "$pid")
    [ $((b - a)) -lt $((hz / 20)) ] && break
    if [ $((SECONDS - start)) -gt 900 ]; then echo "proxy-vs-verdaccio: pid $pid still busy after 900 s" >&2; exit 1; fi
  done
  echo $((SECONDS - start - 1))
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(nproc) x $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')"
  echo "kernel: $(uname -r)"
  echo "node: $(node -v); npm: $(npm -v); verdaccio: $(node -p "require('$verdaccio_dir/node_modules/verdaccio/package.json').version")"
  echo "wrk: $(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}'); go: $(go env GOVERSION); python: $(python3 -V | awk '{print $2}')"
  echo "wrk: -t$threads -c$conns -d$duration --timeout $wrk_timeout --latency after a $warmup warm-up run;" \
    "single-connection rows: -t1 -c1 -d$serial_duration, no separate warm-up"
} >"$out/versions.txt"
cat "$out/versions.txt" >&2

printf '%s\t' label server path accept connections body_bytes requests rps mib_per_s p50_ms p90_ms p99_ms max_ms errors \
  server_cpu_s wrk_cpu_s drain_s peak_rss_mib upstream_hits | sed 's/\t$/\n/' >"$out/results.tsv"
# measure LABEL SERVER(verdaccio|upstream) PATH ACCEPT(full|corgi) CONNECTIONS THREADS DURATION WARMUP(0 for none)
measure() {
  local label=$1 server=$2 path=$3 accept=$4 c=$5 t=$6 d=$7 w=$8 base pid hdr=() bytes drained
  case $server in
  verdaccio) base=$verdaccio_url pid=$verdaccio_pid ;;
  vigil) base=$vigil_url pid=$vigil_pid ;;
  *) base=$upstream_url pid=$upstream_pid ;;
  esac
  [ "$accept" = corgi ] && hdr=(-H "$corgi")
  bytes=$(curl -fsS -o /dev/null -w '%{size_download}' "${hdr[@]}" "$base$path")
  log "$label: $server $path (Accept $accept, $bytes bytes), $c connections, warm-up $w, then $d"
  if [ "$w" != 0 ]; then
    wrk -t"$t" -c"$c" -d"$w" --timeout "$wrk_timeout" "${hdr[@]}" "$base$path" >"$out/$label.warmup.txt" 2>&1
    drained=$(drain "$pid")
    log "  warm-up backlog drained in $drained s"
  fi
  echo 5 >"/proc/$pid/clear_refs" # resets VmHWM, so peak RSS is this run's
  local cpu0 cpu1 hits0 hits1
  cpu0=$(cpu_ticks "$pid"); hits0=$(served)
  command time -f '%U %S' -o "$out/$label.wrk-time" \
    wrk -t"$t" -c"$c" -d"$d" --timeout "$wrk_timeout" --latency -s "$here/wrk-summary.lua" \
    "${hdr[@]}" "$base$path" >"$out/$label.txt" 2>&1
  cpu1=$(cpu_ticks "$pid")
  drained=$(drain "$pid")
  hits1=$(served)
  local s
  s=$(grep '^SUMMARY' "$out/$label.txt")
  get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" ${s#SUMMARY}"; }
  local errors=$(($(get connect_err) + $(get read_err) + $(get write_err) + $(get timeouts) + $(get non2xx)))
  local hits=$((hits1 - hits0)) p50 p90 p99 max
  if [ "$server" = upstream ]; then
    hits=- # its counter counts wrk's own requests
  elif [ "$hits" != 0 ]; then
    log "  WARNING: $label reached the upstream $hits times; not every request was served from the cache"
  fi
  p50=$(get p50_ms) p90=$(get p90_ms) p99=$(get p99_ms) max=$(get max_ms)
  if [ "$(get requests)" = 0 ]; then p50=n/a p90=n/a p99=n/a max=n/a; fi # no request completed within the run
  printf '%s\t' "$label" "$server" "$path" "$accept" "$c" "$bytes" "$(get requests)" "$(get rps)" "$(get mib_per_s)" \
    "$p50" "$p90" "$p99" "$max" "$errors" \
    "$(awk -v t=$((cpu1 - cpu0)) -v hz="$hz" 'BEGIN {printf "%.1f", t / hz}')" \
    "$(awk '{printf "%.1f", $1 + $2}' "$out/$label.wrk-time")" "$drained" "$(peak_rss_mib "$pid")" "$hits" |
    sed 's/\t$/\n/' >>"$out/results.tsv"
}
# Target by target: Verdaccio, vigil proxy, then the upstream itself (the ceiling), same wrk settings.
for target in a:/react b:$large_path c:$lodash_path; do
  for server in verdaccio vigil upstream; do
    measure "${target%%:*}-$server" "$server" "${target#*:}" full "$conns" "$threads" "$duration" "$warmup"
  done
done
for target in a:/react b:$large_path; do
  for server in verdaccio vigil; do
    measure "${target%%:*}-corgi-$server" "$server" "${target#*:}" corgi "$conns" "$threads" "$duration" "$warmup"
  done
done
# One connection: service time without queueing.
for target in a:/react b:$large_path c:$lodash_path; do
  for server in verdaccio vigil upstream; do
    measure "${target%%:*}-$server-c1" "$server" "${target#*:}" full 1 1 "$serial_duration" 0
  done
done
measure a-corgi-verdaccio-c1 verdaccio /react corgi 1 1 "$serial_duration" 0
measure a-corgi-vigil-c1 vigil /react corgi 1 1 "$serial_duration" 0

# ---- 4. a real client through each proxy -----------------------------------------------------------------
client=""
for server in verdaccio vigil; do
  if [ "$server" = verdaccio ]; then base=$verdaccio_url; else base=$vigil_url; fi
  client_dir=$(mktemp -d /tmp/proxy-npm-check.XXXXXX)
  rm -rf "$out/npmcache-$server"
  if (cd "$client_dir" && npm init -y >/dev/null &&
    npm install react lodash --registry "$base/" --ignore-scripts --cache "$out/npmcache-$server" >"$out/npm-install-$server.log" 2>&1); then
    client+="npm install react lodash through $server: ok ($(cd "$client_dir" && node -p 'const p=require("./package.json"); Object.entries(p.dependencies).map(([k,v])=>k+"@"+v).join(", ")'))"$'\n'
  else
    client+="npm install react lodash through $server: FAILED (see $out/npm-install-$server.log)"$'\n'
  fi
  rm -rf "$client_dir"
done

# ---- results -----------------------------------------------------------------------------------------------
{
  echo '| run | server | path | Accept | conns | body bytes | completed | req/s | MiB/s | p50 ms | p90 ms | p99 ms | errors | server CPU s | wrk CPU s | drain s | peak RSS MiB | upstream hits |'
  echo '|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|'
  tail -n +2 "$out/results.tsv" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15, $16, $17, $18, $19}'
  echo
  echo
  echo "Ratios (same run):"
  python3 - "$out/results.tsv" <<'PY'
import csv, sys
rows = {r["label"]: r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")}
def num(label, field):
    try:
        return float(rows[label][field])
    except (KeyError, ValueError):
        return None
print("| target | vigil req/s | Verdaccio req/s | vigil / Verdaccio | vigil peak RSS MiB | Verdaccio peak RSS MiB |")
print("|---|--:|--:|--:|--:|--:|")
for base in ["a", "b", "c", "a-corgi", "b-corgi", "a-c1", "b-c1", "c-c1", "a-corgi-c1"]:
    if base.endswith("c1"):
        v, d = base[:-3] + "-vigil-c1", base[:-3] + "-verdaccio-c1"
    else:
        v, d = base + "-vigil", base + "-verdaccio"
    rv, rd = num(v, "rps"), num(d, "rps")
    if rv is None or rd is None:
        continue
    ratio = "%.0fx" % (rv / rd) if rd else "inf"
    print("| %s %s | %.1f | %.1f | %s | %s | %s |" % (base, rows[v]["path"], rv, rd, ratio, rows[v]["peak_rss_mib"], rows[d]["peak_rss_mib"]))
print()
print("| one connection | vigil p50 ms | upstream p50 ms | vigil / upstream |")
print("|---|--:|--:|--:|")
for t in "abc":
    v, u = num(t + "-vigil-c1", "p50_ms"), num(t + "-upstream-c1", "p50_ms")
    if v is not None and u:
        print("| %s %s | %.2f | %.2f | %.2fx |" % (t, rows[t + "-vigil-c1"]["path"], v, u, v / u))
PY
  echo
  echo "$client"
  echo "Verdaccio log lines at level warn or above: $(wc -l <"$verdaccio_dir/verdaccio.log" 2>/dev/null || echo 0)"
} >"$out/results.md"
cat "$out/versions.txt" "$out/results.md"
log "raw output in $out"
