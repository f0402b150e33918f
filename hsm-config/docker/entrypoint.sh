#!/bin/sh
# Entry point of the keyhold service image (POSIX sh: Debian's /bin/sh is dash).
#   init           create the SoftHSM token, keys, PINs, PKI and keyhold.yaml in $KEYHOLD_HOME
#                  (idempotent; compose's token-init runs it once), listening on all interfaces
#   serve          run the key service with $KEYHOLD_CONFIG (default $KEYHOLD_HOME/keyhold.yaml)
#   anything else  passed to the service jar, e.g. `keys list --config /var/keyhold/keyhold.yaml`
# PINs are read from files by the service and the bootstrap; none is ever an argument.
set -eu
JAR=/opt/keyhold/keyhold-service.jar
CONFIG=${KEYHOLD_CONFIG:-$KEYHOLD_HOME/keyhold.yaml}
EXPORTS=--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED

case "${1:-serve}" in
  init)
    /opt/keyhold/softhsm/bootstrap.sh "$JAR"
    # Inside a container the service listens on all interfaces; compose publishes to the host's loopback.
    sed -i -e 's|^listen: 127\.0\.0\.1:|listen: 0.0.0.0:|' \
           -e 's|^  listen: 127\.0\.0\.1:\([0-9]*\)|  listen: 0.0.0.0:\1|' "$KEYHOLD_HOME/keyhold.yaml"
    echo "[init] token, keys and $KEYHOLD_HOME/keyhold.yaml are ready"
    ;;
  serve)
    [ -f "$CONFIG" ] || { echo "keyhold: $CONFIG is missing; run this image with 'init' first (compose: token-init)" >&2; exit 2; }
    # shellcheck disable=SC2086 # word splitting of the JVM options is intended
    exec java $EXPORTS ${KEYHOLD_SERVICE_JVM_OPTS:-} -jar "$JAR" serve --config "$CONFIG"
    ;;
  *)
    exec java $EXPORTS -jar "$JAR" "$@"
    ;;
esac
