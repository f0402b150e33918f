#!/usr/bin/env bash
# Creates a throwaway SoftHSMv2 token, demo PKI and Keyhold config for benchmarking on this
# machine, under DIR (default bench/target/local). Idempotent: an existing setup is kept.
# Afterwards run (the script prints the exact command):
#   SOFTHSM2_CONF=DIR/softhsm2.conf java -jar bench/target/keyhold-bench-*-all.jar ops --config DIR/keyhold.yaml --start-service ...
# PINs are random, kept in DIR with mode 600, and passed to pkcs11-tool through the environment only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(mkdir -p "${1:-$here/target/local}" && cd "${1:-$here/target/local}" && pwd)"
jar="$(ls "$here"/target/keyhold-bench-*-all.jar 2>/dev/null | head -1)"
lib="${KEYHOLD_PKCS11_LIBRARY:-/usr/lib/softhsm/libsofthsm2.so}"
port="${KEYHOLD_BENCH_PORT:-18443}"
[ -n "$jar" ] || { echo "build first: mvn -B -q -pl bench install -DskipTests" >&2; exit 2; }
[ -f "$lib" ] || { echo "no PKCS#11 library at $lib (apt-get install softhsm2 opensc)" >&2; exit 2; }
export SOFTHSM2_CONF="$dir/softhsm2.conf"

if [ ! -f "$dir/keyhold.yaml" ]; then
  mkdir -p "$dir/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' "$dir/tokens" > "$SOFTHSM2_CONF"
  umask 077
  KH_USER_PIN="$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
  KH_SO_PIN="$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
  export KH_USER_PIN KH_SO_PIN
  printf '%s\n' "$KH_USER_PIN" > "$dir/user.pin"
  pkcs11-tool --module "$lib" --init-token --label keyhold-bench --so-pin env:KH_SO_PIN >/dev/null
  pkcs11-tool --module "$lib" --token-label keyhold-bench --login --login-type so --so-pin env:KH_SO_PIN --init-pin --pin env:KH_USER_PIN >/dev/null
  umask 022
  cat > "$dir/keyhold.yaml" <<YAML
listen: 127.0.0.1:$port
tls:
  certChain: pki/server.pem
  privateKey: pki/server.key
  clientCa: pki/ca.pem
hsm:
  library: $lib
  tokenLabel: keyhold-bench
  pin: { file: user.pin }
  sessions: 4
  decryptMode: raw
audit:
  file: audit.log
policy:
  - client: bench
    keys: ["*"]
    operations: [sign, decrypt_premaster]
YAML
fi
# The same service with hsm.verifySignatures: rsa (RSA-CRT check kept, ECDSA not re-verified).
sed 's/^  sessions: \([0-9]*\)$/  sessions: \1\n  verifySignatures: rsa/' "$dir/keyhold.yaml" > "$dir/keyhold-rsaverify.yaml"
java -cp "$jar" dev.keyhold.service.Main pki init --dir "$dir/pki" --client bench >/dev/null
java --add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED -cp "$jar" dev.keyhold.service.Main keys ensure --config "$dir/keyhold.yaml" \
  --key rsa2048=rsa:2048 --key ec-p256=ec:secp256r1 2>&1 | grep -v ' INFO ' || true
cat <<MSG
token, PKI and config in $dir
run:
  SOFTHSM2_CONF=$SOFTHSM2_CONF java -jar $jar ops --config $dir/keyhold.yaml --start-service \\
    --ca $dir/pki/ca.pem --cert $dir/pki/bench.pem --key $dir/pki/bench.key --key-name rsa2048
MSG
