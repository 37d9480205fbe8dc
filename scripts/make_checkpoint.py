#!/usr/bin/python3
"""Writes a full-size random-weight checkpoint for a timm preset, and optionally PyTorch's logits for an input,
so vitscope's predictions on full-size models can be checked against PyTorch without downloading real weights.

    /usr/bin/python3 scripts/make_checkpoint.py vit_base_patch16_224 /tmp/vit_b16.safetensors \\
        [--layout timm|hf] [--dtype f32|f16|bf16] [--seed S] [--input IMG.npy --expect OUT.npy]

--layout timm (default) writes one .safetensors file with timm's names. --layout hf writes OUT as a Hugging Face
model directory (config.json with layer_norm_eps 1e-12 as HF's ViT default, model.safetensors,
preprocessor_config.json). --input is a float32 .npy of shape [B, 3, 224, 224], already normalized; --expect receives
float32 logits [B, 1000] computed in float32 from the weights as stored (so rounded to F16/BF16 if asked) with the
layout's LayerNorm eps (timm 1e-6, HF 1e-12). The weights are those of vit_reference.random_init: attention is far from
uniform, as with trained weights. Output is not meant to be committed.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_layout  # noqa: E402
import safetensors_io as st  # noqa: E402
import vit_presets  # noqa: E402
from vit_reference import build, load_timm_state_dict  # noqa: E402


def stored_weights(state_dict, dtype):
    """The weights as a reader sees them after widening the stored dtype back to float32."""
    narrow = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    return {k: v.to(narrow).float() for k, v in state_dict.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("arch", help="timm preset: " + ", ".join(vit_presets.names()))
    parser.add_argument("out", help="a .safetensors file (--layout timm) or a directory (--layout hf)")
    parser.add_argument("--layout", choices=["timm", "hf"], default="timm")
    parser.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--input", help="float32 .npy [B, 3, H, W] to run through the model")
    parser.add_argument("--expect", help="where to write the float32 logits [B, K] for --input")
    args = parser.parse_args(argv)
    if (args.input is None) != (args.expect is None):
        parser.error("--input and --expect go together")

    torch.set_grad_enabled(False)
    arch, data = vit_presets.preset(args.arch)
    dtype = st.dtype_name(args.dtype)
    t0 = time.time()
    model = build(arch, seed=args.seed)
    sd = model.state_dict()
    meta = {"format": "pt", "arch": args.arch, "seed": str(args.seed),
            "source": "vitscope scripts/make_checkpoint.py (random weights)"}

    if args.layout == "timm":
        if os.path.dirname(args.out):
            os.makedirs(os.path.dirname(args.out), exist_ok=True)
        st.save_file(sd, args.out, dtype=dtype, metadata=meta)
        written = args.out
    else:
        os.makedirs(args.out, exist_ok=True)
        labels = [f"LABEL_{i}" for i in range(arch.num_classes)]  # HF's names when a config has none
        cfg = hf_layout.hf_config(arch, labels, layer_norm_eps=1e-12)
        cfg["torch_dtype"] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]
        pre = hf_layout.hf_preprocessor_config(arch, data["mean"], data["std"], data["interpolation"])
        for name, obj in (("config.json", cfg), ("preprocessor_config.json", pre)):
            with open(os.path.join(args.out, name), "w") as f:
                json.dump(obj, f, indent=2)
                f.write("\n")
        written = os.path.join(args.out, "model.safetensors")
        st.save_file(hf_layout.timm_to_hf(sd), written, dtype=dtype, metadata=meta)
    print(f"wrote {written}: {args.arch} ({args.layout} layout, {dtype}, seed {args.seed}), "
          f"{sum(v.numel() for v in sd.values()):,} parameters, {os.path.getsize(written) / 2**20:.1f} MiB, "
          f"{time.time() - t0:.1f} s; data config {data}")

    if args.input:
        x = torch.from_numpy(np.load(args.input).astype(np.float32))
        expected_shape = (arch.in_chans, *arch.img_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected_shape:
            sys.exit(f"--input {args.input} has shape {list(x.shape)}; expected [B, {', '.join(map(str, expected_shape))}]")
        weights = stored_weights(sd, dtype)
        if args.layout == "timm":
            logits = load_timm_state_dict(build(arch), weights)(x)
        else:
            hf_model = hf_layout.HfViTForImageClassification(cfg).eval()
            hf_model.load_state_dict(hf_layout.timm_to_hf(weights), strict=True)
            logits, _ = hf_model(x)
        st.save_npy(args.expect, logits)
        top = logits.topk(3, dim=-1)
        print(f"wrote {args.expect}: logits {list(logits.shape)}; top-3 classes per image {top.indices.tolist()}, "
              f"logits {[[round(v, 3) for v in row] for row in top.values.tolist()]}")


if __name__ == "__main__":
    main()
