#!/usr/bin/python3
"""PyTorch's numbers for the notebooks: the embedded model on the notebooks' demo image, computed independently of
vitscope, so that NotebookNumbersTest can check what the notebooks print against a reference instead of against
outputs the Java code itself stored.

Writes src/test/resources/golden/notebooks/embedded.json: for each logit factor of the notebooks (0.5, 1, 2, 3, 5),
the class probabilities, each block's mean attention entropy (nats, over heads and query rows), the class token's
attention rollout through all blocks (its share on the patches and its largest patch entry), and for factor 1 the
rollout variants of attention-rollout.ipynb; every value with its float32 error bound (error_bounds.py: the bound of
the attention or logits, carried through each quantity; a test adds the half unit of the printed last digit).

    /usr/bin/python3 scripts/make_notebook_goldens.py [--model models/fashion_vit] [--image images/fashion/...png]

Re-run it whenever the embedded model changes (and re-make the notebooks' stored outputs: notebooks/README.md).
Needs Debian's python3-torch, python3-numpy and python3-pil.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attention_analysis as aa  # noqa: E402
import error_bounds as eb  # noqa: E402
import safetensors_io as st  # noqa: E402
from make_goldens import bounded_analysis, f32_eps  # noqa: E402
from vit_reference import VitArch, build, load_timm_state_dict  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FACTORS = [0.5, 1, 2, 3, 5]
VARIANTS = [("mean", 0.0), ("max", 0.0), ("min", 0.0), ("max", 0.5), ("max", 0.8), ("max", 0.9)]


def load(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    a = cfg["model_args"]
    arch = VitArch(img_size=tuple(a["img_size"]), patch_size=a["patch_size"], in_chans=a["in_chans"],
                   num_classes=a["num_classes"], embed_dim=a["embed_dim"], depth=a["depth"], num_heads=a["num_heads"],
                   mlp_ratio=a["mlp_ratio"], qkv_bias=a["qkv_bias"], layer_norm_eps=a["layer_norm_eps"])
    sd, _ = st.load_file(os.path.join(model_dir, "model.safetensors"))
    return load_timm_state_dict(build(arch), sd), cfg


def input_tensor(path, cfg, arch):
    """timm's eval transform for an image already at the model's size with crop_pct 1 (resize and crop are then
    identities in Pillow): to [0, 1], then (x - mean) / std, in float32 as torchvision does."""
    pre = cfg["pretrained_cfg"]
    im = Image.open(path)
    im = im.convert("L" if arch.in_chans == 1 else "RGB")
    if im.size != (arch.img_size[1], arch.img_size[0]) or float(pre.get("crop_pct", 1.0)) != 1.0:
        raise SystemExit(f"{path}: this script handles images already at the model's size with crop_pct 1 "
                         f"(got {im.size}, crop_pct {pre.get('crop_pct')})")
    x = torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).float().div(255)
    x = x.reshape(arch.in_chans, *arch.img_size) if arch.in_chans == 1 else x.permute(2, 0, 1)
    mean = torch.tensor(pre["mean"], dtype=torch.float32).reshape(-1, 1, 1)
    std = torch.tensor(pre["std"], dtype=torch.float32).reshape(-1, 1, 1)
    return ((x - mean) / std).unsqueeze(0)  # (1, C, H, W)


def pair(b, index=None):
    v = b.v if index is None else b.v[index]
    e = b.e if index is None else b.e[index]
    return {"value": v.tolist(), "bound": e.tolist()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=os.path.join(REPO, "models", "fashion_vit"))
    p.add_argument("--image", default=os.path.join(REPO, "images", "fashion", "fashion_4_shirt.png"))
    p.add_argument("--out", default=os.path.join(REPO, "src", "test", "resources", "golden", "notebooks",
                                                 "embedded.json"))
    args = p.parse_args()
    torch.set_grad_enabled(False)
    model, cfg = load(args.model)
    arch = model.arch
    x = input_tensor(args.image, cfg, arch)
    eps = f32_eps(arch.layer_norm_eps)
    out = {"model": os.path.relpath(args.model, REPO), "image": os.path.relpath(args.image, REPO),
           "labels": cfg.get("label_names"), "factors": []}
    for factor in FACTORS:
        b, rec = eb.forward(model, x, factors=None if factor == 1 else [factor] * arch.depth, eps=eps)
        with torch.no_grad():
            ref = model(x) if factor == 1 else None
        if ref is not None:
            assert (ref.double() - b["logits"].v).abs().max() < 1e-5
        attn = eb.stack(rec.attn)                                     # (depth, 1, N, T, T)
        entropy = eb.entropy(eb.stack([a[0] for a in rec.attn]))      # (depth)
        with torch.enable_grad():
            share = bounded_analysis(lambda a: aa.rollout(a, "mean")[-1, 0].sum(), attn)
            strongest = bounded_analysis(lambda a: aa.rollout(a, "mean")[-1, 0].max(), attn)
        entry = {"factor": factor, "probabilities": pair(eb.softmax(b["logits"]), 0), "entropy": pair(entropy),
                 "rollout_patch_share": pair(share), "rollout_strongest_patch": pair(strongest)}
        if factor == 1:
            variants = []
            for fusion, discard in VARIANTS:
                with torch.enable_grad():
                    s = bounded_analysis(lambda a: aa.rollout(a, fusion, discard)[-1, 0].sum(), attn)
                    m = bounded_analysis(lambda a: aa.rollout(a, fusion, discard)[-1, 0].max(), attn)
                variants.append({"fusion": fusion, "discard": discard, "patch_share": pair(s),
                                 "strongest_patch": pair(m)})
            entry["rollout_variants"] = variants
        out["factors"].append(entry)
        top = int(b["logits"].v[0].argmax())
        print(f"factor {factor}: top-1 {top} p = {eb.softmax(b['logits']).v[0, top]:.4f}, "
              f"entropy block 4 {entropy.v[4]:.3f}, rollout share {share.v.item():.3f}")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(args.out, REPO)}")


if __name__ == "__main__":
    main()
