#!/usr/bin/env bash
# Installs the nginx-libp11 handshake baseline: Debian's nginx and the libp11 PKCS#11 engine
# (libengine-pkcs11-openssl). Optional: only `keyhold-bench handshakes --baselines nginx-libp11`
# and bench/run-all.sh use it, never the test command.
#
# Debian's nginx package starts an nginx on port 80 of every address when installed; a
# policy-rc.d that refuses service starts keeps it stopped (the bench runs its own nginx on
# loopback, as a child process, with its own configuration).
set -euo pipefail
engine_present() {
  for f in /usr/lib/*/engines-3/pkcs11.so /usr/lib64/engines-3/pkcs11.so; do [ -f "$f" ] && return 0; done
  return 1
}
if [ -x /usr/sbin/nginx ] && engine_present; then
  echo "nginx-libp11: already installed ($(/usr/sbin/nginx -v 2>&1), libp11 engine present)"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "nginx-libp11: no apt-get here; install nginx and the libp11 OpenSSL engine (pkcs11.so) by hand" >&2
  exit 2
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  own_policy=1
fi
trap '[ "$own_policy" = 1 ] && $sudo rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -q update >/dev/null || true
$sudo apt-get install -y -q --no-install-recommends nginx libengine-pkcs11-openssl >/dev/null
engine_present || { echo "nginx-libp11: the engine is still missing after the install" >&2; exit 2; }
echo "nginx-libp11: installed $(/usr/sbin/nginx -v 2>&1), $(dpkg-query -W -f='libengine-pkcs11-openssl ${Version}' libengine-pkcs11-openssl)"
