#!/usr/bin/env bash
# vitscope against its peers on this machine, on identical random weights (issue #2 item 7; docs/benchmarks.md):
# ONNX Runtime Java (the model exported to ONNX), vitscope (scripts/vitscope bench --weights) and PyTorch eager
# (scripts/bench_pytorch.py, whose seed-0 weights are the ones make_checkpoint.py writes). Prints ms/image at each batch
# size and the ratios vitscope/ORT and vitscope/PyTorch.
#
#   scripts/bench_peers.sh [ARCH]        (default vit_base_patch16_224; ~8 minutes for ViT-B/16 on 2 cores)
#
# Environment: BATCHES ("1 8"), WARMUP (2), ITERATIONS (10), THREADS (2), OUT (target/bench-peers: the checkpoint and
# the .onnx file go there and are reused; never commit them), VITSCOPE (the vitscope launcher, scripts/vitscope),
# PAIRS (3): ORT and vitscope run alternately that many times each, and the ratio is taken per pair, the two runs
# next to each other, so that the machine's drift over minutes (10-15 % on the shared 2-core guests) is not read as
# a difference between the two; PYTORCH (1; 0 skips PyTorch eager); ROUNDS (12; 0 skips): after the pairs, both
# engines again in one process (io.vitscope.bench.PeerBench), ORT as it ships (its workers spinning), in turns of
# BLOCK (4) forwards whose first is not timed, ROUNDS rounds: the two engines seconds apart instead of minutes, the
# ratio per round with a distribution-free 95 % interval.
# Not part of the build, the tests or CI: it needs Debian's python3-torch and python3-numpy, and Maven's -Pbench
# profile (ONNX Runtime Java from Maven Central).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch="${1:-vit_base_patch16_224}"
batches="${BATCHES:-1 8}"
warmup="${WARMUP:-2}"
iterations="${ITERATIONS:-10}"
threads="${THREADS:-2}"
pairs="${PAIRS:-3}"
rounds="${ROUNDS:-12}"
block="${BLOCK:-4}"
with_pytorch="${PYTORCH:-1}"
out="${OUT:-$here/target/bench-peers}"
vitscope="${VITSCOPE:-$here/scripts/vitscope}"
py=/usr/bin/python3

# ---- what it needs (install with: apt-get install -y python3-torch python3-numpy maven openjdk-17-jdk-headless) ----
missing=()
[ -x "$py" ] || missing+=("python3")
"$py" -c 'import torch, numpy' 2>/dev/null || missing+=("python3-torch python3-numpy")
command -v java >/dev/null || missing+=("openjdk-17-jdk-headless")
command -v mvn >/dev/null || missing+=("maven")
# Debian's torch takes its GEMMs from whatever libblas.so.3 is installed: with only the reference BLAS (libblas3) a
# ViT-B/16 forward takes minutes, which is not PyTorch's speed. OpenBLAS provides libopenblas.so.0 and libblas.so.3.
if [ "$with_pytorch" != 0 ] && ! { ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q 'libopenblas\.so\.0'; then
  missing+=("libopenblas0-pthread")
fi
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

for pair in $(seq 1 "$pairs"); do
  echo "== pair $pair of $pairs: ONNX Runtime Java" >&2
  java -Xmx4g -cp "$here/target/classes:$(cat "$here/target/bench-classpath.txt")" io.vitscope.bench.OrtBench "$onnx" \
    --batch $batches --warmup "$warmup" --iterations "$iterations" --threads "$threads" | tee "$log/ort-$pair.txt" >&2
  echo "== pair $pair of $pairs: vitscope" >&2
  "$vitscope" bench --model "$arch" --weights "$ckpt" --batch $batches --warmup "$warmup" --iterations "$iterations" \
    --threads "$threads" --no-probes --no-breakdown --format json > "$log/vitscope-$pair.json"
done

if [ "$rounds" != 0 ]; then
  echo "== both engines in one process, $rounds rounds of $block forwards each" >&2
  fix="$here/target/classes/native/linux-x86_64/libvitscope_mklfix.so" # MKL's fast path, as the launcher sets it
  LD_PRELOAD="$fix${LD_PRELOAD:+:$LD_PRELOAD}" java -Xmx6g -Dai.djl.offline=true -cp "$here/target/classes:$(cat "$here/target/bench-classpath.txt")" \
    io.vitscope.bench.PeerBench "$onnx" "$ckpt" "$arch" --batch $batches --warmup 1 --rounds "$rounds" \
    --threads "$threads" --block "$block" --ort-spinning on | tee "$log/peer.txt" >&2
fi

if [ "$with_pytorch" != 0 ]; then
  echo "== PyTorch eager" >&2
  "$py" "$here/scripts/bench_pytorch.py" "$arch" --batch $batches --threads "$threads" --warmup "$warmup" \
    --runs "$iterations" | tee "$log/pytorch.txt" >&2
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$py" - "$log" "$arch" "$pairs" <<'EOF'
import json, os, re, statistics, sys
log, arch, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3])
ort, vit, info = [], [], None
for p in range(1, pairs + 1):
    text = open(f"{log}/ort-{p}.txt").read()
    ort.append({int(b): float(m) for b, m in re.findall(r"^RESULT ort (\d+) ([\d.]+)", text, re.M)})
    vs = json.load(open(f"{log}/vitscope-{p}.json"))
    vit.append({b["batch"]: b["msPerImage"]["median"] for b in vs["batches"]})
    info = info or vs
pt = {}
if os.path.exists(f"{log}/pytorch.txt"):
    text = open(f"{log}/pytorch.txt").read()
    pt = {int(b): float(m) for b, m in re.findall(r"batch (\d+): ([\d.]+) ms/image", text)}
print(f"{arch}, {info['gflopPerImage']:.1f} GFLOP/image; vitscope: MKL fast path {info['mkl']}, "
      f"matmul {info['matmul']['gflops']:.0f} GFLOP/s measured (first pair); medians in ms/image; logs in {log}")
print(f"{'batch':>5} {'pair':>4} {'ORT Java':>9} {'vitscope':>9} {'vitscope/ORT':>13}")
for b in sorted(vit[0]):
    ratios = []
    for p in range(pairs):
        o, v = ort[p][b], vit[p][b]
        ratios.append(v / o)
        print(f"{b:>5} {p + 1:>4} {o:>9.1f} {v:>9.1f} {v / o:>12.3f}x")
    print(f"{b:>5} {'all':>4} {statistics.median(o[b] for o in ort):>9.1f} "
          f"{statistics.median(v[b] for v in vit):>9.1f} {statistics.median(ratios):>12.3f}x  (median of the "
          f"{pairs} pairs' ratios; range {min(ratios):.3f}-{max(ratios):.3f})")
if os.path.exists(f"{log}/peer.txt"):
    print("in one process (PeerBench, ORT spinning as it ships): ms/image medians, vitscope/ORT per round")
    print("(every: the packed copy computing the last block's MLP for every token, as ORT's graph does)")
    print(f"{'batch':>5} {'ORT Java':>9} {'vitscope':>9} {'packed':>9} {'every':>9} {'vitscope/ORT [95%]':>22} "
          f"{'packed/ORT [95%]':>22} {'every/ORT [95%]':>22}")
    for r in re.findall(r"^RESULT peer (.*)$", open(f"{log}/peer.txt").read(), re.M):
        b, v, pk, o, q, ql, qh, qp, pl, ph, e, qe, el, eh = r.split()
        print(f"{b:>5} {float(o):>9.1f} {float(v):>9.1f} {float(pk):>9.1f} {float(e):>9.1f} "
              f"{float(q):>7.3f}x [{float(ql):.3f}, {float(qh):.3f}] {float(qp):>7.3f}x [{float(pl):.3f}, {float(ph):.3f}] "
              f"{float(qe):>7.3f}x [{float(el):.3f}, {float(eh):.3f}]")
if pt:
    print(f"{'batch':>5} {'PyTorch':>9} {'vitscope':>9} {'vitscope/PyTorch':>17}  (PyTorch once, after the pairs)")
    for b in sorted(pt):
        v = statistics.median(x[b] for x in vit)
        print(f"{b:>5} {pt[b]:>9.1f} {v:>9.1f} {v / pt[b]:>16.2f}x")
EOF
