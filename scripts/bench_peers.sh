#!/usr/bin/env bash
# vitscope against its peers on this machine, on identical random weights (issue #2 item 7; docs/benchmarks.md):
# ONNX Runtime Java (the model exported to ONNX), vitscope (scripts/vitscope bench --weights) and PyTorch eager
# (scripts/bench_pytorch.py, whose seed-0 weights are the ones make_checkpoint.py writes). Prints ms/image at each batch
# size and the ratios vitscope/ORT and vitscope/PyTorch.
#
#   scripts/bench_peers.sh [ARCH]        (default vit_base_patch16_224; ~5 minutes for ViT-B/16 on 2 cores)
#
# Environment: BATCHES ("1 8"), WARMUP (2), ITERATIONS (10), THREADS (2), OUT (target/bench-peers: the checkpoint and
# the .onnx file go there and are reused; never commit them), VITSCOPE (the vitscope launcher, scripts/vitscope).
# Not part of the build, the tests or CI: it needs Debian's python3-torch and python3-numpy, and Maven's -Pbench
# profile (ONNX Runtime Java from Maven Central).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch="${1:-vit_base_patch16_224}"
batches="${BATCHES:-1 8}"
warmup="${WARMUP:-2}"
iterations="${ITERATIONS:-10}"
threads="${THREADS:-2}"
out="${OUT:-$here/target/bench-peers}"
vitscope="${VITSCOPE:-$here/scripts/vitscope}"
py=/usr/bin/python3

# ---- what it needs (install with: apt-get install -y python3-torch python3-numpy maven openjdk-17-jdk-headless) ----
missing=()
[ -x "$py" ] || missing+=("python3")
"$py" -c 'import torch, numpy' 2>/dev/null || missing+=("python3-torch python3-numpy")
command -v java >/dev/null || missing+=("openjdk-17-jdk-headless")
command -v mvn >/dev/null || missing+=("maven")
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench_peers: missing ${missing[*]}; install with: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
# export_onnx.py uses torch's own ONNX exporter (torch 1.13): the 'onnx' Python package is not needed.

mkdir -p "$out"
ckpt="$out/$arch.safetensors"
onnx="$out/$arch.onnx"
log="$out/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$log"

# (a) random weights in timm's layout (seed 0, the same weights bench_pytorch.py builds)
if [ ! -s "$ckpt" ]; then
  "$py" "$here/scripts/make_checkpoint.py" "$arch" "$ckpt" --seed 0
fi
# (b) the same weights as ONNX (dynamic batch)
if [ ! -s "$onnx" ] || [ "$ckpt" -nt "$onnx" ]; then
  "$py" "$here/scripts/export_onnx.py" "$ckpt" "$arch" "$onnx"
fi
# (c) build the bench profile (ONNX Runtime is 'provided': the runner's class path is written apart)
(cd "$here" && mvn -q -Pbench -DskipTests compile \
  && mvn -q -Pbench dependency:build-classpath -Dmdep.includeScope=compile \
       -Dmdep.outputFile="$here/target/bench-classpath.txt") >&2
touch "$here/target/classpath.txt" # the launcher's staleness check: these classes are fresh

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== ONNX Runtime Java" >&2
java -Xmx4g -cp "$here/target/classes:$(cat "$here/target/bench-classpath.txt")" io.vitscope.bench.OrtBench "$onnx" \
  --batch $batches --warmup "$warmup" --iterations "$iterations" --threads "$threads" | tee "$log/ort.txt" >&2

echo "== vitscope" >&2
"$vitscope" bench --model "$arch" --weights "$ckpt" --batch $batches --warmup "$warmup" --iterations "$iterations" \
  --threads "$threads" --no-probes --format json > "$log/vitscope.json"

echo "== PyTorch eager" >&2
"$py" "$here/scripts/bench_pytorch.py" "$arch" --batch $batches --threads "$threads" --warmup "$warmup" \
  --runs "$iterations" | tee "$log/pytorch.txt" >&2

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$py" - "$log" "$arch" <<'EOF'
import json, re, sys
log, arch = sys.argv[1], sys.argv[2]
ort = {int(b): float(m) for b, m in re.findall(r"^RESULT ort (\d+) ([\d.]+)", open(f"{log}/ort.txt").read(), re.M)}
vs = json.load(open(f"{log}/vitscope.json"))
vit = {b["batch"]: b["msPerImage"]["median"] for b in vs["batches"]}
pt = {int(b): float(m) for b, m in re.findall(r"batch (\d+): ([\d.]+) ms/image", open(f"{log}/pytorch.txt").read())}
print(f"{arch}, {vs['gflopPerImage']:.1f} GFLOP/image; vitscope: MKL fast path {vs['mkl']}, "
      f"matmul {vs['matmul']['gflops']:.0f} GFLOP/s measured; medians in ms/image; logs in {log}")
print(f"{'batch':>5} {'ORT Java':>9} {'vitscope':>9} {'PyTorch':>9} {'vitscope/ORT':>13} {'vitscope/PyTorch':>17}")
for b in sorted(vit):
    o, v, p = ort.get(b), vit[b], pt.get(b)
    r1 = f"{v / o:.2f}x" if o else "-"
    r2 = f"{v / p:.2f}x" if p else "-"
    print(f"{b:>5} {o or float('nan'):>9.1f} {v:>9.1f} {p or float('nan'):>9.1f} {r1:>13} {r2:>17}")
EOF
