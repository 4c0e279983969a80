#!/usr/bin/env bash
# Everything CI runs, in order: make sure OpenCL (PoCL) is there, then the README's test command,
# which builds the jar, runs the unit tests, then the device tests (native-tests/) on every
# binding. With CI=true the device tests fail rather than skip when no device is found.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/install-opencl.sh

# The README's test command (keep the two in step).
mvn -B verify
