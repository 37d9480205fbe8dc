#!/usr/bin/env bash
# Load benchmark of 'vitscope serve' (docs/benchmarks.md): N clients posting one image to /api/predict for S seconds
# against the server on a loopback port in the same JVM; prints throughput, p50/p99, statuses and resident memory.
# Usage: scripts/serve_load.sh [embedded|ARCH] [clients] [seconds] [workers] [queue] [timeout-seconds]
#   e.g. scripts/serve_load.sh embedded 4 60; scripts/serve_load.sh vit_base_patch16_224 32 60 (random weights)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mvn -q -o -B test-compile >/dev/null
fix="$here/target/classes/native/linux-x86_64/libvitscope_mklfix.so"
[ -f "$fix" ] && export LD_PRELOAD="$fix${LD_PRELOAD:+:$LD_PRELOAD}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
exec java -Xmx4g -Dai.djl.offline=true -Djava.awt.headless=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "target/test-classes:target/classes:$(cat target/classpath.txt)" io.vitscope.serve.ServeLoadBench "$@"
