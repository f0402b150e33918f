#!/usr/bin/env bash
# Renders a keyhold-bench HTML report in headless Chromium and checks that it really drew:
#  1. the DOM after scripts ran carries data-rendered-charts="4" (every Chart.js chart was built,
#     so the inlined library and the data loaded without any network);
#  2. a 1200x1600 screenshot is not blank (PngCheck: ink and colour count).
# Usage: bench/check-report.sh REPORT.html [OUT.png]
# Installs Debian's chromium with apt-get when it is missing (needs root); nothing else does.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
html="$(cd "$(dirname "${1:?usage: check-report.sh REPORT.html [OUT.png]}")" && pwd)/$(basename "$1")"
png="${2:-${html%.html}.png}"
jar="$(ls "$here"/target/keyhold-bench-*-all.jar 2>/dev/null | head -1)"
[ -n "$jar" ] || { echo "build first: mvn -B -q -pl bench install -DskipTests" >&2; exit 2; }

if ! command -v chromium >/dev/null; then
  echo "installing chromium (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
       --disable-sync --no-first-run --user-data-dir="$profile" --window-size=1200,1600)

dom="$(timeout 120 chromium "${flags[@]}" --virtual-time-budget=5000 --dump-dom "file://$html" 2>/dev/null)"
if ! grep -q 'data-rendered-charts="4"' <<<"$dom"; then
  echo "FAIL: the report's charts did not render (no data-rendered-charts=\"4\" in the DOM)" >&2
  exit 1
fi
timeout 120 chromium "${flags[@]}" --virtual-time-budget=5000 --screenshot="$png" "file://$html" >/dev/null 2>&1
[ -s "$png" ] || { echo "FAIL: chromium wrote no screenshot" >&2; exit 1; }
java -cp "$jar" dev.keyhold.bench.report.PngCheck "$png"
echo "OK: $html renders (screenshot $png)"
