#!/usr/bin/env bash
# Before/after on one machine in one run: the same `keyhold-bench ops` steps with two builds of the
# bench jar (each starts its own service from its own classes), interleaved old, new, old, new...,
# Keyhold only (no baselines: the ratios come from run-all.sh). Prints ops/s, p50 and CPU per
# operation of client and service for each step.
#
#   bench/compare-builds.sh OLD_ALL_JAR NEW_ALL_JAR [OUT]
#
# Build the old one in a worktree: git worktree add /tmp/old REV && (cd /tmp/old && mvn -q -DskipTests package)
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${1:?old keyhold-bench-*-all.jar}; NEW=${2:?new keyhold-bench-*-all.jar}; OUT=${3:-bench/results/compare}
L=bench/target/local
[ -f "$L/keyhold.yaml" ] || bench/setup-local-token.sh
echo "compare: load $(cut -d' ' -f1 /proc/loadavg) at start ($(uptime))"
export SOFTHSM2_CONF=$L/softhsm2.conf
TLS="--ca $L/pki/ca.pem --cert $L/pki/bench.pem --key $L/pki/bench.key"
mkdir -p "$OUT"
if [ "${QUICK:-0}" = 1 ]; then W="--first-warmup 2s --warmup 1s --duration 2s"; else W="--first-warmup 30s --warmup 2s --duration 8s"; fi
run() { # jar label key op
  # Equal warm-up for both: a build that can wait for quiet JITs does not (the other cannot).
  local extra=""
  java -jar "$1" ops --help 2>&1 | grep -q -- --jit-quiet-max && extra="--jit-quiet-max 0s"
  java -jar "$1" ops $extra --config "$L/keyhold.yaml" --start-service $TLS --key-name "$3" --op "$4" -c 1,32 \
    --baselines none $W --out "$OUT" --no-html --name "$2-$3-$4" \
    > "$OUT/$2-$3-$4.log" 2>&1
  grep -E "^keyhold +(1|32) " "$OUT/$2-$3-$4.log" | tail -2 | sed "s/^/$2 $3 $4: /"
}
for w in "rsa2048 sign" "ec-p256 sign" "rsa2048 decrypt-premaster"; do
  set -- $w
  run "$OLD" old "$1" "$2"
  run "$NEW" new "$1" "$2"
done
echo "compare: load $(cut -d' ' -f1 /proc/loadavg) at the end"
