#!/usr/bin/env bash
# One quiet-machine run of every benchmark the README's benchmark section shows, then the section
# itself: bench/results/SUMMARY.md (each issue-13 target met/missed with its same-run value).
#
#   bench/run-all.sh            # refuses to start when the 1-minute load average is >= 0.5
#   FORCE=1 bench/run-all.sh    # runs anyway, and SUMMARY.md says the machine was busy
#   QUICK=1 bench/run-all.sh    # 1 s steps: checks that the script works, figures are meaningless
#
# Needs: mvn -DskipTests install, bench/setup-local-token.sh (run here if missing).
# Budget: about 45 minutes on 2 cores (ops: 8 s first warm-up, then until the JIT compilers are
# quiet, at most 60 s; handshakes: 30 s, at most 150 s; 2 s warm-up, 5 s measured per step).
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=bench/target/keyhold-bench-0.1.0-SNAPSHOT-all.jar
L=bench/target/local
OUT=${OUT:-bench/results}
JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -f "$JAR" ] || { echo "run-all: $JAR missing: mvn -B -q -DskipTests install first" >&2; exit 2; }
[ -f "$L/keyhold.yaml" ] || bench/setup-local-token.sh

load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l >= 0.5) }'; then
  echo "run-all: load average $load >= 0.5: the machine is not quiet; figures would be skewed." >&2
  echo "         uptime: $(uptime)" >&2
  if [ "${FORCE:-0}" != 1 ]; then
    echo "         stop what runs (top), wait, or FORCE=1 to run anyway (the summary says so)." >&2
    exit 3
  fi
  echo "run-all: FORCE=1: running on a busy machine" >&2
  load="$load (BUSY: forced)"
fi

if [ "${QUICK:-0}" = 1 ]; then
  W="--first-warmup 1s --warmup 1s --duration 1s"
else
  W="--first-warmup 8s --jit-quiet-max 60s --warmup 2s --duration 5s"
fi
# Handshakes compile far more code (JSSE or Netty, gRPC, both ends of TLS) while 16 load threads
# starve the JIT threads of CPU: on 2 cores netty-keyhold's JITs took ~110 s to go quiet, so with
# 8 s + 30 s its first step was measured mid-compilation (half its settled rate). Settling stops as
# soon as the JITs are quiet, so the longer limit only costs where it is needed; a report whose
# limit still ran out is marked "JIT busy" in the summary.
if [ "${QUICK:-0}" = 1 ]; then
  HW="$W"
else
  HW="--first-warmup 30s --jit-quiet-max 150s --warmup 2s --duration 5s"
fi
export SOFTHSM2_CONF=$L/softhsm2.conf
TLS="--ca $L/pki/ca.pem --cert $L/pki/bench.pem --key $L/pki/bench.key"
B="java -jar $JAR"
mkdir -p "$OUT"

# The service config with a metrics endpoint (handshakes check one Keyhold operation per
# handshake through it), and one per hsm.sessions value for the sweep.
cfg=$L/keyhold-runall.yaml
grep -v '^metrics:' "$L/keyhold.yaml" > "$cfg"
printf 'metrics:\n  listen: 127.0.0.1:18444\n' >> "$cfg"
sessions_cfg() { sed "s/^  sessions: [0-9]*$/  sessions: $1/" "$cfg" > "$L/keyhold-sessions-$1.yaml"; echo "$L/keyhold-sessions-$1.yaml"; }

ops() { $B ops --config "$1" --start-service $TLS $W --out "$OUT" --no-html "${@:2}"; }
hs() { $B handshakes --config "$cfg" --start-service $TLS $HW --event-loops 2 --baselines nginx-libp11 --out "$OUT" --no-html "$@"; }

step() { echo; echo "=== run-all: $* ($(date -u +%T), load $(cut -d' ' -f1 /proc/loadavg))"; }

# 1. ~2.5 min: RSA-2048 sign, concurrency 1-64, pkcs11-direct (also at hsm.sessions threads) + openssl.
step "RSA-2048 sign sweep"
ops "$cfg" --key-name rsa2048 -c 1,2,4,8,16,32,64 --baselines pkcs11-direct,openssl --name ops-rsa2048-sign
# 2. ~1.5 min each: P-256 sign (default fault check) and DecryptPremaster.
step "P-256 sign"
ops "$cfg" --key-name ec-p256 -c 1,8,32 --baselines pkcs11-direct,openssl --name ops-p256-sign
step "RSA-2048 DecryptPremaster"
ops "$cfg" --key-name rsa2048 --op decrypt-premaster -c 1,8,32 --baselines pkcs11-direct,openssl --name ops-rsa2048-decrypt
# 2b. ~1 min: the RPC alone (GetKey: mTLS, HTTP/2, authorization, audit, no HSM step): the floor
# under the added latency and the service CPU overhead of Sign and DecryptPremaster.
step "RPC floor (get-key)"
ops "$cfg" --key-name rsa2048 --op get-key -c 1,32 --baselines none --name ops-rsa2048-get-key
# 3. ~3 min: hsm.sessions sweep at c=32 (pkcs11-direct also with as many threads as sessions).
for n in 1 2 4 8; do
  step "hsm.sessions=$n"
  ops "$(sessions_cfg $n)" --key-name rsa2048 -c 32 --baselines pkcs11-direct --name ops-rsa2048-sign-sessions-$n
done
# 4. ~2.5 min: the whole bench (client, service, SoftHSM) pinned to 1 core, then to 2.
for cpus in 0 0,1; do
  step "taskset -c $cpus"
  taskset -c $cpus $B ops --config "$cfg" --start-service $TLS $W --out "$OUT" --no-html \
    --key-name rsa2048 -c 1,8,32 --baselines pkcs11-direct --name ops-rsa2048-sign-cpus-$(echo $cpus | tr , -)
done
# 5. ~2 min: the service on the newest JDK (the bench and pkcs11-direct stay on this one).
if [ -x "$JDK25/bin/java" ]; then
  step "service on $JDK25"
  ops "$cfg" --java-home "$JDK25" --key-name rsa2048 -c 1,32 --baselines pkcs11-direct --name ops-jdk25-rsa2048-sign
  ops "$cfg" --java-home "$JDK25" --key-name ec-p256 -c 1,32 --baselines pkcs11-direct --name ops-jdk25-p256-sign
  ops "$cfg" --key-name rsa2048 -c 1,32 --baselines pkcs11-direct --name ops-jdk17-rsa2048-sign
else
  echo "run-all: no JDK at $JDK25 (JDK25=...): JDK row skipped" >&2
fi
# 6. ~7 min: full handshakes, every server (nginx + libp11 too: installed here if missing, since
# run-all is a benchmark run, not the test command), four suites.
bench/install-nginx-libp11.sh || echo "run-all: nginx-libp11 not installed: the reports say so" >&2
step "handshakes TLS 1.3 RSA-PSS"
hs --key-name rsa2048 -c 1,16 --name handshakes-rsa2048-tls13
step "handshakes TLS 1.2 RSA key exchange"
hs --key-name rsa2048 -c 16 --tls TLSv1.2 --cipher TLS_RSA_WITH_AES_128_GCM_SHA256 --name handshakes-rsa2048-tls12-rsakx
step "handshakes TLS 1.2 ECDHE-RSA"
hs --key-name rsa2048 -c 16 --tls TLSv1.2 --cipher TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 --name handshakes-rsa2048-tls12-ecdhe
step "handshakes TLS 1.2 ECDHE-ECDSA"
hs --key-name ec-p256 -c 16 --tls TLSv1.2 --cipher TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 --name handshakes-p256-tls12-ecdhe

# 7. ~1 min: DecryptPremaster latency, valid against every invalid ciphertext kind (no padding
# oracle by timing): Mann-Whitney U and a bootstrap interval per kind, into timing-rsa2048.md.
step "DecryptPremaster timing, valid vs invalid"
if [ "${QUICK:-0}" = 1 ]; then T="--calls-per-variant 50 --warmup-calls 50"; else T="--calls-per-variant 3000 --warmup-calls 3000"; fi
$B timing --config "$cfg" --start-service $TLS $T --key-name rsa2048 --out "$OUT"

step "summary"
$B summary --in "$OUT" --out "$OUT/SUMMARY.md" --start-load "$load"
echo "run-all: done; the README's benchmark section links $OUT/SUMMARY.md"
