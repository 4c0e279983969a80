#!/usr/bin/env bash
# Makes sure an OpenCL platform is usable here: installs PoCL (a CPU OpenCL driver) and the ICD
# loader when none is found and this machine allows it (root with apt-get). Idempotent.
#
#   ci/install-opencl.sh           install if needed; exit 1 if no platform can be had
#   ci/install-opencl.sh --check   only report; exit 1 if no platform
#
# The -dev package matters: it provides the unversioned libOpenCL.so that JOCL (and, by
# default, LWJGL) load; the runtime package alone only ships libOpenCL.so.1.
set -euo pipefail

packages=(pocl-opencl-icd ocl-icd-libopencl1 ocl-icd-opencl-dev clinfo)

platforms() {
  command -v clinfo >/dev/null 2>&1 || { echo 0; return; }
  clinfo --list 2>/dev/null | grep -c '^Platform #' || true
}

have_loader() {
  ldconfig -p 2>/dev/null | grep -q 'libOpenCL\.so ' || [ -e /usr/lib/x86_64-linux-gnu/libOpenCL.so ] \
    || [ -e /usr/lib/aarch64-linux-gnu/libOpenCL.so ]
}

report() {
  echo "OpenCL: $(platforms) platform(s); unversioned libOpenCL.so $(have_loader && echo present || echo missing)"
  command -v clinfo >/dev/null 2>&1 && clinfo --list 2>/dev/null | sed 's/^/  /' || true
}

if [ "${1:-}" != "--check" ] && { [ "$(platforms)" -eq 0 ] || ! have_loader; }; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing PoCL and the OpenCL ICD loader: ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  else
    echo "No OpenCL platform, and this script cannot install one (needs root and apt-get)." >&2
    echo "Install: ${packages[*]} (Debian/Ubuntu), or your vendor's OpenCL driver." >&2
  fi
fi

report
if [ "$(platforms)" -eq 0 ] || ! have_loader; then
  echo "ERROR: no usable OpenCL platform; device tests cannot run" >&2
  exit 1
fi
