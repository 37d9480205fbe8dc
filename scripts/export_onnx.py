#!/usr/bin/python3
"""Exports a timm-layout checkpoint, loaded into the timm 0.4.5 mirror, to ONNX for the peer benchmark against
ONNX Runtime Java.

    /usr/bin/python3 scripts/export_onnx.py CHECKPOINT.safetensors ARCH OUT.onnx [--batch N] [--opset 14]

The graph has one input `pixel_values` [batch, C, H, W] and one output `logits` [batch, K]; the batch axis is dynamic
(--batch only sets the size traced). Opset 14 is the default: torch 1.13 exports it fully, and it is within what
ONNX Runtime 1.2x supports. torch 1.13's exporter serializes the graph itself: the `onnx` Python package
(Debian's python3-onnx) is not needed.
"""
import argparse
import os
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402
import vit_presets  # noqa: E402
from vit_reference import build, load_timm_state_dict  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="timm-layout .safetensors (F32, F16 or BF16; widened to float32)")
    parser.add_argument("arch", help="timm preset: " + ", ".join(vit_presets.names()))
    parser.add_argument("out", help="the .onnx file to write")
    parser.add_argument("--batch", type=int, default=1, help="batch size of the traced example (default 1)")
    parser.add_argument("--opset", type=int, default=14)
    args = parser.parse_args(argv)

    torch.set_grad_enabled(False)
    arch, _ = vit_presets.preset(args.arch)
    state_dict, _ = st.load_file(args.checkpoint)
    try:
        model = load_timm_state_dict(build(arch), state_dict)
    except RuntimeError as e:
        sys.exit(f"{args.checkpoint} does not fit {args.arch}: {e}")

    x = torch.randn(args.batch, arch.in_chans, *arch.img_size, generator=torch.Generator().manual_seed(0))
    # PatchEmbed's input-size check compares shapes in Python; traced, it is a constant check, which is what we want.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    t0 = time.time()
    torch.onnx.export(model, (x,), args.out, opset_version=args.opset, do_constant_folding=True,
                      input_names=["pixel_values"], output_names=["logits"],
                      dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}})
    print(f"wrote {args.out}: {args.arch}, opset {args.opset}, dynamic batch, "
          f"{os.path.getsize(args.out) / 2**20:.1f} MiB, export took {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
