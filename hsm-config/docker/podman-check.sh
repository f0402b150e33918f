#!/usr/bin/env bash
# End-to-end check of the container set-up with podman (not in CI; minutes on a small machine):
# installs podman if missing, creates the debian:bookworm-slim base image locally with debootstrap
# (no registry is needed), builds both images from a clean export of HEAD (so the Dockerfile is
# proven to need no host build), runs token init, the key service and the demo TLS server exactly
# as compose.yaml does, curls the demo through keys offloaded to the HSM (TLS 1.3 and TLS 1.2 ECDHE-RSA), prints PASS or FAIL and
# removes everything it started.
#
# Usage (as root): hsm-config/docker/podman-check.sh
# Environment:
#   KEYHOLD_CHECK_SERVICE_PORT / _DEMO_PORT / _METRICS_PORT   host ports (27443 / 28443 / 29464), loopback
#   KEYHOLD_READY_PATH   the health check's path (default: /readyz if the service has it, else /healthz)
#   KEYHOLD_BUILD_NETWORK   podman build --network value; default: probed (private if the mirror answers
#                           from a container, else host)
#   KEYHOLD_CHECK_KEEP=1    keep the images and build-stage layers (the base image is always kept:
#                           it is an input; so is buildah's Maven cache mount)
set -euo pipefail
ROOT=${KEYHOLD_CHECK_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}   # the repository whose HEAD is built
SERVICE_PORT=${KEYHOLD_CHECK_SERVICE_PORT:-27443}
DEMO_PORT=${KEYHOLD_CHECK_DEMO_PORT:-28443}
METRICS_PORT=${KEYHOLD_CHECK_METRICS_PORT:-29464}
BASE=docker.io/library/debian:bookworm-slim     # what `FROM debian:bookworm-slim` resolves to
IMAGE=localhost/keyhold-check:latest
DEMO_IMAGE=localhost/keyhold-check-demo:latest
POD=keyhold-check
VOLUME=keyhold-check-token
WORK=$(mktemp -d /tmp/keyhold-podman-check.XXXXXX)
START=$(date +%s)
export DEBIAN_FRONTEND=noninteractive

say() { printf '[podman-check %4ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

cleanup() {
  local rc=$?
  set +e
  if command -v podman >/dev/null; then
    if [ $rc -ne 0 ]; then
      for c in "$POD-service" "$POD-demo"; do
        podman container exists "$c" && { say "last log lines of $c:"; podman logs --tail 30 "$c" 2>&1 | sed 's/^/    /'; }
      done
    fi
    podman pod rm -f -t 5 "$POD" >/dev/null 2>&1
    podman volume rm -f "$VOLUME" >/dev/null 2>&1
    if [ -z "${KEYHOLD_CHECK_KEEP:-}" ]; then
      podman rmi -f "$IMAGE" "$DEMO_IMAGE" >/dev/null 2>&1
      # The build stages' images this run left untagged (about 0.8 GB each); others' are kept.
      comm -13 "$WORK/dangling-before" <(podman images -qa --filter dangling=true | sort -u) | xargs -r podman rmi -f >/dev/null 2>&1
    fi
  fi
  rm -rf "$WORK"
  say "torn down (pod, volume$([ -n "${KEYHOLD_CHECK_KEEP:-}" ] || echo ', images'))"
}
trap cleanup EXIT

# ---- 1. podman, runc, debootstrap ---------------------------------------------------------------
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)
# A pod's infra container runs catatonit (a recommended package, so not always installed).
[ -x /usr/libexec/podman/catatonit ] || command -v catatonit >/dev/null || need+=(catatonit)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" netavark aardvark-dns iptables fuse-overlayfs >/dev/null
fi
say "$(podman --version)"

# ---- 2. containers.conf: runc, explicit ulimits; cgroupfs and file events (no systemd here) ------
# Containers may not raise a limit above this shell's hard limit (runc: "error setting rlimit ...
# operation not permitted"), so take the hard limits, capped.
cap() { local h; h=$(ulimit -H "$1"); [ "$h" = unlimited ] || [ "$h" -gt "$2" ] && h=$2; echo "$h"; }
NOFILE=$(cap -n 65536); NPROC=$(cap -u 32768)
cat >"$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$NOFILE:$NOFILE", "nproc=$NPROC:$NPROC"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
# Debian's podman also ships a CNI config, but not the CNI plugins it names: use netavark.
network_backend = "netavark"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"

# ---- 3. the base image, from Debian's mirror ------------------------------------------------------
if podman image exists "$BASE"; then
  say "base image $BASE exists"
else
  say "debootstrap --variant=minbase bookworm (base image $BASE)"
  mirror=$(sed -n 's|^URIs: *\(http[^ ]*/debian\)$|\1|p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "${mirror:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log"; fail "debootstrap failed"; }
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$WORK/rootfs"
fi

# ---- 4. can a build container reach Debian's mirror and Maven Central? -------------------------
if [ -z "${KEYHOLD_BUILD_NETWORK:-}" ]; then
  if podman run --rm "$BASE" sh -c 'apt-get -qq update >/dev/null 2>&1' 2>/dev/null; then
    KEYHOLD_BUILD_NETWORK=private   # podman build's own default: a network namespace of its own
  else
    KEYHOLD_BUILD_NETWORK=host
  fi
fi
say "build network: $KEYHOLD_BUILD_NETWORK"

# ---- 5. build both images from a clean export of HEAD ---------------------------------------------
podman images -qa --filter dangling=true | sort -u >"$WORK/dangling-before"
mkdir "$WORK/src"
git -C "$ROOT" archive HEAD | tar -x -C "$WORK/src"
if [ -z "${KEYHOLD_READY_PATH:-}" ]; then
  if grep -rqs '"/readyz"' "$WORK/src/service/src/main/java"; then KEYHOLD_READY_PATH=/readyz; else KEYHOLD_READY_PATH=/healthz; fi
fi
say "health check path: $KEYHOLD_READY_PATH"
# Maven Central over TLS: if this host trusts extra CAs (a TLS-intercepting egress proxy), the
# build stage needs them too; they are mounted for the build only and never land in an image.
ca_mount=()
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  ca_mount=(-v /usr/local/share/ca-certificates:/usr/local/share/ca-certificates:ro)
  say "mounting the host's extra CA certificates into the build"
fi
build() { # target tag
  podman build --format docker --network "$KEYHOLD_BUILD_NETWORK" --pull=never "${ca_mount[@]}" \
    -f hsm-config/docker/Dockerfile --target "$1" --build-arg READY_PATH="$KEYHOLD_READY_PATH" -t "$2" "$WORK/src" \
    >"$WORK/build-$1.log" 2>&1 || { tail -n 40 "$WORK/build-$1.log"; fail "podman build --target $1 failed"; }
}
say "building the service image (Maven runs inside; the first build downloads the dependencies)"
build service "$IMAGE"
say "building the demo image (reuses the build stage)"
build demo "$DEMO_IMAGE"
size() { podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1e6}'; }
say "images: service $(size "$IMAGE"), demo $(size "$DEMO_IMAGE"), base $(size "$BASE")"
podman image inspect --format '{{.Config.User}} {{json .Config.Healthcheck.Test}}' "$IMAGE" | grep -q '^10001:10001 .*curl' \
  || fail "the service image lacks the non-root USER or the curl HEALTHCHECK"

# ---- 6. the stack, as compose.yaml: one pod (shared loopback), a named volume --------------------
podman pod rm -f "$POD" >/dev/null 2>&1 || true
podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
podman volume create "$VOLUME" >/dev/null
podman pod create --name "$POD" -p "127.0.0.1:$SERVICE_PORT:7443" -p "127.0.0.1:$DEMO_PORT:8443" \
  -p "127.0.0.1:$METRICS_PORT:9464" >/dev/null
say "token init (one-shot)"
podman run --rm --pod "$POD" -v "$VOLUME:/var/keyhold" "$IMAGE" init >"$WORK/init.log" 2>&1 \
  || { cat "$WORK/init.log"; fail "token init failed"; }
sed 's/^/    /' "$WORK/init.log"
say "starting the key service"
# No systemd here to run health-check timers: the loop below runs the image's check itself.
podman run -d --name "$POD-service" --pod "$POD" --health-interval=disable -v "$VOLUME:/var/keyhold" "$IMAGE" serve >/dev/null
[ "$(podman exec "$POD-service" id -u)" = 10001 ] || fail "the service does not run as uid 10001"
healthy=""
for _ in $(seq 1 90); do
  if podman healthcheck run "$POD-service" >/dev/null 2>&1; then healthy=1; break; fi
  podman container inspect -f '{{.State.Running}}' "$POD-service" | grep -q true || fail "the key service exited"
  sleep 2
done
[ -n "$healthy" ] || fail "the image's HEALTHCHECK did not pass within 180 s"
say "key service healthy (image HEALTHCHECK: curl $KEYHOLD_READY_PATH)"
say "starting the demo TLS server (JSSE), keys rsa2048 and ec-p256 offloaded"
podman run -d --name "$POD-demo" --pod "$POD" -v "$VOLUME:/var/keyhold:ro" "$DEMO_IMAGE" \
  --listen=0.0.0.0:8443 --keyhold-target=127.0.0.1:7443 --ca=/var/keyhold/pki/ca.pem \
  --cert=/var/keyhold/pki/demo-app.pem --key=/var/keyhold/pki/demo-app.key \
  --key-name=rsa2048 --key-name=ec-p256 --client-auth=want --client-ca=/var/keyhold/pki/ca.pem --deadline=10s >/dev/null
podman cp "$POD-service:/var/keyhold/pki/ca.pem" "$WORK/ca.pem"

# ---- 7. curl the demo through the offloaded keys -------------------------------------------------
up=""
for _ in $(seq 1 90); do
  if curl -fsS --cacert "$WORK/ca.pem" "https://localhost:$DEMO_PORT/" >"$WORK/tls13.txt" 2>/dev/null; then up=1; break; fi
  podman container inspect -f '{{.State.Running}}' "$POD-demo" | grep -q true || fail "the demo server exited"
  sleep 2
done
[ -n "$up" ] || fail "the demo did not answer within 180 s"
say "TLS 1.3 (signed in the HSM): $(cat "$WORK/tls13.txt")"
# The JSSE demo has no RSA key exchange on Debian's JDK 17 (java.security disables TLS_RSA_*), so
# the second handshake is TLS 1.2 ECDHE-RSA: the rsa2048 key signs ServerKeyExchange in the HSM.
curl -fsS --cacert "$WORK/ca.pem" --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 "https://localhost:$DEMO_PORT/" >"$WORK/tls12.txt" \
  || fail "TLS 1.2 ECDHE-RSA failed"
say "TLS 1.2 ECDHE-RSA (signed in the HSM): $(cat "$WORK/tls12.txt")"
grep -q 'hello from Keyhold: key .*, protocol TLSv1.3' "$WORK/tls13.txt" || fail "unexpected TLS 1.3 answer"
grep -q 'key rsa2048, protocol TLSv1.2, suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' "$WORK/tls12.txt" || fail "unexpected TLS 1.2 answer"
metrics=$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" | grep '^keyhold_operations_total' || true)
printf '%s\n' "$metrics" | sed 's/^/    /'
printf '%s\n' "$metrics" | grep -q 'operation="sign".*outcome="ok"' || fail "no successful sign counted"
say "PASS: built from a clean tree, non-root, healthy, demo served through offloaded keys ($(( $(date +%s) - START )) s)"
