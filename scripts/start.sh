#!/usr/bin/env bash
# Start jobd from a fresh checkout: install what the build needs, build release, run it
# in the foreground with its defaults (or with the options given, e.g. --workers 8).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
    echo "start: installing libsqlite3-dev" >&2
    export DEBIAN_FRONTEND=noninteractive
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq libsqlite3-dev
    else sudo apt-get update -qq && sudo apt-get install -y -qq libsqlite3-dev; fi
fi
swift build -c release --product jobd >&2
swift build -c release --product jobctl >&2
echo "start: jobctl is at $(pwd)/.build/release/jobctl" >&2
exec .build/release/jobd "$@"
