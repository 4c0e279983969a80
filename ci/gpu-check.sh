#!/usr/bin/env bash
# gpu-check.sh — the checks a machine with a real GPU must run, prepared so that one short,
# unattended call on such a machine (no network, no Maven there) gives every figure we need.
#
# HOW IT IS RUN
#   1. On the build machine (it reaches Maven Central), from the repository root:
#          bash ci/gpu-check.sh prepare
#      This builds target/clpool.jar and the test classes (mvn package, no -Pbench), fetches the
#      JUnit console launcher into target/gpu-check/lib, and, where jlink exists, links a small
#      Java 17 runtime into target/gpu-check/jre (used only if the GPU machine has no Java 17).
#   2. Carry the repository to the GPU machine with these ignored paths (about 50 MiB):
#          target/clpool.jar target/test-classes target/gpu-check
#      (with the device tool: carry=["target/clpool.jar","target/test-classes",
#      "target/gpu-check"], command="bash ci/gpu-check.sh", timeout_s=540).
#   3. On the GPU machine, from the repository root:
#          OUT=/some/folder bash ci/gpu-check.sh          # OUT defaults to ./gpu-check-out
#      It finds Java 17 (JAVA, the system's, then target/gpu-check/jre; as a last resort
#      apt-get, which needs network), makes libOpenCL.so loadable (a symlink to libOpenCL.so.1
#      when only the versioned name exists), and writes into $OUT:
#          env.txt            machine, driver (nvidia-smi), OpenCL ICDs, clinfo -l, Java
#          probe.json         clpool probe --json
#          self-test.txt      clpool probe --self-test (exit code in summary.txt)
#          device-tests.txt   the device tests (native-tests/, *IT) from the prebuilt test classes,
#                             with CI=true so a missing device fails instead of skipping;
#                             JUnit XML reports in junit/
#          bench-quick-standard.json, bench-quick-workloads.json
#                             clpool bench --quick --json, --suite standard and --suite workloads
#                             (workload subset, allocating vs into ratios), CPU path and every binding
#          summary.txt        one line per step: exit code and seconds
#      Each step has its own time limit; the whole run stays under 8 minutes (about 7 at most).
#      Exit code: 0 when every step passed, 1 otherwise (the folder is complete either way).
set -uo pipefail
cd "$(dirname "$0")/.."

CONSOLE_VERSION=1.14.1
LIB=target/gpu-check/lib
JRE=target/gpu-check/jre

if [[ "${1:-}" == "prepare" ]]; then
    set -e
    mvn -B -q package -DskipTests
    mvn -B -q test-compile
    mkdir -p "$LIB"
    mvn -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$CONSOLE_VERSION \
        -DoutputDirectory="$LIB"
    if command -v jlink >/dev/null && [[ ! -x "$JRE/bin/java" ]]; then
        jlink --add-modules java.base,java.logging,java.management,java.sql,java.xml,jdk.unsupported,jdk.zipfs \
            --strip-debug --no-header-files --no-man-pages --compress=2 --output "$JRE"
    fi
    du -sh target/clpool.jar target/test-classes target/gpu-check
    echo "prepared: carry target/clpool.jar target/test-classes target/gpu-check"
    exit 0
fi

OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
FAILED=0

# step NAME LIMIT_SECONDS OUTPUT_FILE COMMAND...: runs COMMAND with a time limit, its stdout to
# OUTPUT_FILE and stderr to OUTPUT_FILE.err, and records the exit code and seconds.
step() {
    local name=$1 limit=$2 file=$3
    shift 3
    local start=$SECONDS
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$file" 2> "$OUT/$file.err"
    local rc=$?
    echo "$name rc=$rc seconds=$((SECONDS - start))$([[ $rc == 124 || $rc == 137 ]] && echo " (time limit ${limit}s)")" \
        | tee -a "$SUMMARY"
    [[ $rc == 0 ]] || FAILED=1
}

# ---- Java 17 ----
java_ok() { "$1" -version 2>&1 | grep -Eq 'version "(1[7-9]|2[0-9])'; }
JAVA_BIN=""
for candidate in "${JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" "$JRE/bin/java"; do
    if [[ -n "$candidate" && -x "$candidate" ]] && java_ok "$candidate"; then
        JAVA_BIN=$candidate
        break
    fi
done
if [[ -z "$JAVA_BIN" ]] && command -v apt-get >/dev/null; then
    echo "no Java 17 here: trying apt-get (needs network)" | tee -a "$SUMMARY"
    timeout 120 apt-get update -qq >/dev/null 2>&1 && timeout 180 apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1
    if java_ok java 2>/dev/null; then JAVA_BIN=$(command -v java); fi
fi
if [[ -z "$JAVA_BIN" ]]; then
    echo "java rc=1: no Java 17 (set JAVA, or run 'bash ci/gpu-check.sh prepare' and carry target/gpu-check)" \
        | tee -a "$SUMMARY"
    exit 1
fi
if [[ ! -f target/clpool.jar ]]; then
    echo "jar rc=1: target/clpool.jar missing (run 'bash ci/gpu-check.sh prepare' and carry target/)" | tee -a "$SUMMARY"
    exit 1
fi

# ---- OpenCL loader: both bindings open the unversioned libOpenCL.so ----
if ! ldconfig -p 2>/dev/null | grep -q 'libOpenCL\.so '; then
    so1=$(ldconfig -p 2>/dev/null | awk '/libOpenCL\.so\.1 .*x86-64/ {print $NF; exit}')
    if [[ -z "$so1" ]]; then
        so1=$(ls /usr/lib/x86_64-linux-gnu/libOpenCL.so.1 /usr/local/cuda/lib64/libOpenCL.so.1 2>/dev/null | head -1)
    fi
    if [[ -n "$so1" ]]; then
        mkdir -p "$OUT/lib"
        ln -sf "$so1" "$OUT/lib/libOpenCL.so"
        export LD_LIBRARY_PATH="$OUT/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        echo "opencl-loader: libOpenCL.so -> $so1 (via LD_LIBRARY_PATH)" | tee -a "$SUMMARY"
    elif command -v apt-get >/dev/null; then
        timeout 120 apt-get install -y -qq ocl-icd-libopencl1 ocl-icd-opencl-dev >/dev/null 2>&1 \
            && echo "opencl-loader: installed ocl-icd" | tee -a "$SUMMARY"
    fi
fi

# ---- what this machine is ----
{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -a)"
    echo "cpus: $(nproc)"
    echo "java: $JAVA_BIN"
    "$JAVA_BIN" -version 2>&1
    echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "--- /etc/OpenCL/vendors"
    ls -l /etc/OpenCL/vendors 2>&1
    echo "--- nvidia-smi"
    timeout 20 nvidia-smi 2>&1 || true
    echo "--- clinfo -l"
    timeout 20 clinfo -l 2>&1 || true
} > "$OUT/env.txt" 2>&1

JSIG=""
jhome=$(dirname "$(dirname "$(readlink -f "$JAVA_BIN")")")
[[ -f "$jhome/lib/libjsig.so" ]] && JSIG="$jhome/lib/libjsig.so"
KERNEL_CACHE="$OUT/kernel-cache"
PROPS=(-Dclpool.kernelCache="$KERNEL_CACHE" -Dclpool.jar="$PWD/target/clpool.jar" -Dclpool.shared.dir="$PWD/../shared")

# ---- the checks (limits add up to 455 s, plus a few seconds around them: within 8 minutes) ----
step probe 30 probe.json "$JAVA_BIN" "${PROPS[@]}" -jar target/clpool.jar probe --json
step self-test 75 self-test.txt "$JAVA_BIN" "${PROPS[@]}" -jar target/clpool.jar probe --self-test

CONSOLE=$(ls "$LIB"/junit-platform-console-standalone-*.jar 2>/dev/null | head -1)
if [[ -n "$CONSOLE" && -d target/test-classes ]]; then
    step device-tests 220 device-tests.txt env CI=true LD_PRELOAD="$JSIG" "$JAVA_BIN" "${PROPS[@]}" \
        -jar "$CONSOLE" execute --disable-banner --details=tree \
        --class-path "target/test-classes:target/clpool.jar" \
        --scan-class-path target/test-classes --include-classname '.*IT' \
        --reports-dir "$OUT/junit"
else
    echo "device-tests rc=1: no JUnit console in $LIB or no target/test-classes (run prepare)" | tee -a "$SUMMARY"
    FAILED=1
fi

# Two calls, so that a slow part cannot take the other's figures with it (JSON is printed at the end).
step bench-quick-standard 55 bench-quick-standard.json "$JAVA_BIN" "${PROPS[@]}" -jar target/clpool.jar \
    bench --quick --json --suite standard
step bench-quick-workloads 75 bench-quick-workloads.json "$JAVA_BIN" "${PROPS[@]}" -jar target/clpool.jar \
    bench --quick --json --suite workloads

echo "results in $OUT" | tee -a "$SUMMARY"
exit $FAILED
