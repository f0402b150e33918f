#!/usr/bin/env bash
# Idempotent SoftHSMv2 bootstrap for Keyhold.
#
# Creates, under $KEYHOLD_HOME (default ./var):
#   softhsm/softhsm2.conf, softhsm/tokens/   a SoftHSM token store of its own
#   secrets/user.pin, secrets/so.pin          random PINs, mode 0600 (never on a command line)
#   keyhold.yaml                              the service configuration
#   pki/                                      a local CA, the service's and demo-app's mTLS certificates
# and inside the token: rsa2048, rsa3072, ec-p256, ec-p384 (CKA_SENSITIVE, not extractable),
# each with a certificate under the same CKA_ID, issued by the local CA for localhost, so
# that SunPKCS11 exposes the key and TLS clients can verify it.
#
# Usage: hsm-config/softhsm/bootstrap.sh SERVICE_JAR
# Re-running it changes nothing that exists.
set -euo pipefail

JAR=${1:?usage: bootstrap.sh SERVICE_JAR}
HERE=$(cd "$(dirname "$0")" && pwd)
KEYHOLD_HOME=${KEYHOLD_HOME:-$PWD/var}
TOKEN=${KEYHOLD_TOKEN_LABEL:-keyhold}
LIBRARY=${KEYHOLD_PKCS11_LIBRARY:-/usr/lib/softhsm/libsofthsm2.so}
JAVA=${JAVA:-java}

say() { printf '[bootstrap] %s\n' "$*"; }

for tool in pkcs11-tool "$JAVA"; do
  command -v "$tool" >/dev/null || { echo "bootstrap: $tool is missing (install opensc and a Java 17 JDK)" >&2; exit 2; }
done
[ -f "$LIBRARY" ] || { echo "bootstrap: PKCS#11 library $LIBRARY is missing (apt-get install softhsm2)" >&2; exit 2; }

umask 077
mkdir -p "$KEYHOLD_HOME"/{softhsm/tokens,secrets,pki,log}
export SOFTHSM2_CONF="$KEYHOLD_HOME/softhsm/softhsm2.conf"
if [ ! -f "$SOFTHSM2_CONF" ]; then
  cat > "$SOFTHSM2_CONF" <<CONF
directories.tokendir = $KEYHOLD_HOME/softhsm/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
fi

for pin in user so; do
  f="$KEYHOLD_HOME/secrets/$pin.pin"
  [ -s "$f" ] || { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$f"; say "generated $f"; }
done

if pkcs11-tool --module "$LIBRARY" --list-token-slots 2>/dev/null | grep -Eq "token label +: $TOKEN\$"; then
  say "token '$TOKEN' exists"
else
  KH_SO_PIN=$(cat "$KEYHOLD_HOME/secrets/so.pin") KH_USER_PIN=$(cat "$KEYHOLD_HOME/secrets/user.pin")
  export KH_SO_PIN KH_USER_PIN
  pkcs11-tool --module "$LIBRARY" --init-token --label "$TOKEN" --so-pin env:KH_SO_PIN >/dev/null
  pkcs11-tool --module "$LIBRARY" --token-label "$TOKEN" --login --login-type so --so-pin env:KH_SO_PIN --init-pin --pin env:KH_USER_PIN >/dev/null
  unset KH_SO_PIN KH_USER_PIN
  say "created token '$TOKEN'"
fi

CONFIG="$KEYHOLD_HOME/keyhold.yaml"
if [ ! -f "$CONFIG" ]; then
  sed -e "s|@LIBRARY@|$LIBRARY|" -e "s|@TOKEN@|$TOKEN|" "$HERE/keyhold.yaml.template" > "$CONFIG"
  say "wrote $CONFIG"
fi

keyhold() { "$JAVA" --add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED -jar "$JAR" "$@"; }
keyhold pki init --dir "$KEYHOLD_HOME/pki" --client demo-app
keyhold keys ensure --config "$CONFIG"
keyhold keys certify --config "$CONFIG" --pki "$KEYHOLD_HOME/pki" --dns localhost --ip 127.0.0.1
