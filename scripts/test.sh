#!/usr/bin/env bash
# The one test command (npm test): installs what the tests need that npm does not
# bring (ZooKeeper and Chromium from Debian's packages), builds, checks generated files, and
# runs every test with Node's test runner. Each test starts and stops its own
# servers (emulated masters, a throwaway ZooKeeper) on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

# install_debian_package PACKAGE: apt-get install it, as root or through sudo.
install_debian_package() {
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

if [ ! -e /usr/share/java/zookeeper.jar ]; then
  echo "test: installing ZooKeeper (Debian package 'zookeeper') for the zk:// and HA tests" >&2
  install_debian_package zookeeper
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "test: installing Chromium (Debian package 'chromium') for the dashboard's browser test" >&2
  install_debian_package chromium
fi

npm run --silent build
npx tsx scripts/gen-proto.ts --check
npx tsc -p tsconfig.test.json

mapfile -t files < <(find test -name '*.test.ts' | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
# Everything the tests leave in the temporary directory (task sandboxes that the
# embedded master keeps for the user, ZooKeeper data, browser profiles) goes
# into one folder of this run, removed at the end.
run_tmp=$(mktemp -d -t mesos-http-scheduler-test-XXXXXX)
export TMPDIR="$run_tmp"
summary="$run_tmp/summary.tap"
trap 'rm -rf "$run_tmp" 2>/dev/null || true' EXIT
status=0
node --import tsx --test --test-timeout=180000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$summary" \
  "${files[@]}" || status=$?
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$summary" | tail -1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$summary" | tail -1)
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
