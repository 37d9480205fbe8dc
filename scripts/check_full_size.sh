#!/usr/bin/env bash
# Checks vitscope's predictions on full-size checkpoints against PyTorch, without downloading real weights:
# writes random-weight checkpoints of ViT-B/16 (12 heads) and ViT-S/16 (6 heads) in timm layout (one
# .safetensors) and Hugging Face layout (a model folder), runs `scripts/vitscope predict --dump` on a photo, and
# compares the logits with what PyTorch (scripts/vit_reference.py) computes from the very input vitscope dumped.
# Needs Debian's python3-torch and python3-numpy. Usage: scripts/check_full_size.sh [WORKDIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
py=/usr/bin/python3
image="$here/images/photos/chelsea.jpg"
for arch in vit_base_patch16_224 vit_small_patch16_224; do
  for layout in timm hf; do
    ckpt="$work/$arch.$layout"; [ "$layout" = timm ] && ckpt="$ckpt.safetensors"
    [ -e "$ckpt" ] || "$py" "$here/scripts/make_checkpoint.py" "$arch" "$ckpt" --layout "$layout" --seed 1 >/dev/null
    dump="$work/dump.$arch.$layout"
    "$here/scripts/vitscope" predict --model "$arch" --weights "$ckpt" --dump "$dump" --top 3 "$image" >"$work/predict.$arch.$layout.txt"
    # PyTorch on exactly the input vitscope saw (the HF folder's preprocessor squashes instead of cropping).
    "$py" "$here/scripts/make_checkpoint.py" "$arch" "$work/ref.$arch.safetensors" --seed 1 \
      --input "$dump/input.npy" --expect "$dump/torch_logits.npy" >/dev/null
    "$py" - "$dump" "$arch" "$layout" <<'PY'
import sys, numpy as np
d, arch, layout = sys.argv[1:]
ours = np.load(f"{d}/logits.npy"); ref = np.load(f"{d}/torch_logits.npy")
print(f"{arch:24s} {layout:4s} logits {ours.shape}: max |vitscope - PyTorch| = {abs(ours - ref).max():.2e}, "
      f"top-1 {ours.argmax(1).tolist()} vs {ref.argmax(1).tolist()}")
PY
  done
done
