#!/usr/bin/python3
"""PyTorch references for vitscope's interventions (head ablation, activation patching, logit lens, direct logit
attribution, the effect report), written as golden files, or compared with a vitscope run.

Every definition of issue 13 is implemented here again, independently of the Java code: a functional forward over
vit_reference's modules with an edit point at each activation (resid_pre, attn_out, mlp_out, z = attn @ v per head),
one forward per ablation or patch (no batching), the logit lens through nn.LayerNorm / nn.Linear, and direct logit
attribution from the definition (components projected through the frozen final norm). The edit-point forward is
checked against vit_reference's own forward before anything is written.

    /usr/bin/python3 scripts/make_intervention_goldens.py              # goldens for tiny and tiny_gray
    /usr/bin/python3 scripts/make_intervention_goldens.py --check DIR --weights W.safetensors --preset ARCH \\
        --input X.npy [--corrupt Y.npy] [--dtype float32]                # compare vitscope's output folder DIR

Goldens are computed in float64 from the float32 weights and inputs (so the reference carries no float32 rounding
of its own) and stored as float32 .npy under src/test/resources/golden/<model>/interventions/ (see the README there).
Needs Debian's python3-torch (1.13) and python3-numpy.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402
import vit_presets  # noqa: E402
from vit_reference import VitArch, build, load_timm_state_dict, scaled_attention  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(REPO, "src", "test", "resources", "golden")


# ---- the forward with edit points ----

def forward(model, x, edit=None, record=None, attn_factor=None):
    """logits (B, K). edit(kind, block, value) -> value at resid_pre, z, attn_out, mlp_out; record(kind, block, value)
    sees resid_pre, z, attn_out, mlp_out, resid_post and attn (post-softmax), after any edit."""
    def at(kind, l, v):
        if edit is not None:
            v = edit(kind, l, v)
        if record is not None:
            record(kind, l, v)
        return v

    r = model.embed(x)                                                      # (B, T, D)
    for l, blk in enumerate(model.blocks):
        r = at("resid_pre", l, r)
        a = blk.attn
        h = blk.norm1(r)
        B, N, C = h.shape
        qkv = a.qkv(h).reshape(B, N, 3, a.num_heads, C // a.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                                    # (B, H, T, Dh)
        attn = (q @ k.transpose(-2, -1)) * a.scale
        if attn_factor is not None:
            attn = attn * attn_factor
        attn = attn.softmax(dim=-1)                                         # (B, H, T, T)
        if record is not None:
            record("attn", l, attn)
        z = at("z", l, attn @ v)                                            # (B, H, T, Dh)
        attn_out = at("attn_out", l, a.proj(z.transpose(1, 2).reshape(B, N, C)))
        r = r + attn_out
        mlp_out = at("mlp_out", l, blk.mlp(blk.norm2(r)))
        r = r + mlp_out
        if record is not None:
            record("resid_post", l, r)
    return model.head(model.norm(r)[:, 0])                                  # (B, K)


def entropy_per_block(model, x, attn_factor=None):
    """Mean attention entropy per block (nats, 0 log 0 = 0) of image 0."""
    out = {}

    def rec(kind, l, v):
        if kind == "attn":
            p = v[0]
            out[l] = float(-(torch.where(p > 0, p * torch.log(p), torch.zeros_like(p))).sum(-1).mean())

    forward(model, x, record=rec, attn_factor=attn_factor)
    return [out[l] for l in range(len(model.blocks))]


# ---- the definitions ----

def ablation(model, x, mode, target, blocks=None):
    """[L, H]: logit_c(z[:, h] of block l zeroed / replaced by its token mean) - logit_c(clean); only the rows of
    `blocks` when given (the others stay 0)."""
    clean = forward(model, x)[0, target]
    L, H = len(model.blocks), model.blocks[0].attn.num_heads
    out = torch.zeros(L, H, dtype=torch.float64)
    for l in (range(L) if blocks is None else blocks):
        for h in range(H):
            def edit(kind, b, v, l=l, h=h):
                if kind == "z" and b == l:
                    v = v.clone()
                    v[:, h] = 0 if mode == "zero" else v[:, h].mean(dim=1, keepdim=True)  # mean over T
                return v
            out[l, h] = forward(model, x, edit=edit)[0, target] - clean
    return out


def cache(model, x):
    acts = {}

    def rec(kind, l, v):
        acts[(kind, l)] = v.clone()

    logits = forward(model, x, record=rec)
    return logits, acts


def patching(model, clean, corrupt, act, blocks, positions, c_clean, c_corrupt):
    """[len(blocks), len(positions)] ([len(blocks), H] for z) of (LD_patched - LD_corrupt) / (LD_clean - LD_corrupt)."""
    clean_logits, acts = cache(model, clean)
    corrupt_logits = forward(model, corrupt)

    def ld(z):
        return z[0, c_clean] - z[0, c_corrupt]

    ld_clean, ld_corrupt = ld(clean_logits), ld(corrupt_logits)
    cols = range(model.blocks[0].attn.num_heads) if act == "z" else positions
    out = torch.zeros(len(blocks), len(cols), dtype=torch.float64)
    for i, l in enumerate(blocks):
        for j, p in enumerate(cols):
            def edit(kind, b, v, l=l, p=p):
                if kind == act and b == l:
                    v = v.clone()
                    if act == "z":
                        v[:, p] = acts[(act, l)][:, p]      # head p at every position
                    else:
                        v[:, p] = acts[(act, l)][:, p]      # token position p
                return v
            out[i, j] = (ld(forward(model, corrupt, edit=edit)) - ld_corrupt) / (ld_clean - ld_corrupt)
    return out, float(ld_clean), float(ld_corrupt)


def logit_lens(model, x, final_scale=False):
    """[L + 1, T, K]: head(norm(r_i)) at every token, r_i the input of block i, r_L the last block's output."""
    _, acts = cache(model, x)
    L = len(model.blocks)
    rs = [acts[("resid_pre", l)][0] for l in range(L)] + [acts[("resid_post", L - 1)][0]]
    r = torch.stack(rs)                                                     # (L + 1, T, D)
    if not final_scale:
        return model.head(model.norm(r))
    last = rs[-1]
    sigma = (last.var(dim=-1, unbiased=False, keepdim=True) + model.norm.eps).sqrt()   # (T, 1)
    normed = (r - r.mean(dim=-1, keepdim=True)) / sigma * model.norm.weight + model.norm.bias
    return model.head(normed)


def dla(model, x, target):
    """Direct logit attribution at the class token, from the definition."""
    logits, acts = cache(model, x)
    L = len(model.blocks)
    H = model.blocks[0].attn.num_heads
    r_final = acts[("resid_post", L - 1)][0, 0]                             # (D)
    sigma = (r_final.var(unbiased=False) + model.norm.eps).sqrt()
    direction = model.norm.weight * model.head.weight[target]               # γ ⊙ W_head[c]

    def contrib(r):
        return float(((r - r.mean()) / sigma) @ direction)

    D = r_final.shape[0]
    Dh = D // H
    heads = torch.zeros(L, H, dtype=torch.float64)
    mlp = torch.zeros(L, dtype=torch.float64)
    bias = []
    components = [acts[("resid_pre", 0)][0, 0]]
    for l in range(L):
        w = model.blocks[l].attn.proj.weight                                 # (D, D)
        for h in range(H):
            result = acts[("z", l)][0, h, 0] @ w[:, h * Dh:(h + 1) * Dh].T   # (D)
            heads[l, h] = contrib(result)
            components.append(result)
        b = model.blocks[l].attn.proj.bias
        bias.append(contrib(b))
        components.append(b)
        m = acts[("mlp_out", l)][0, 0]
        mlp[l] = contrib(m)
        components.append(m)
    constant = float(model.norm.bias @ model.head.weight[target] + model.head.bias[target])
    embed = contrib(acts[("resid_pre", 0)][0, 0])
    total = embed + float(heads.sum()) + sum(bias) + float(mlp.sum()) + constant
    # The components are exactly the class token's final residual: check the decomposition itself.
    # (to rounding: 1e-9 relative in float64, 1e-4 in float32 over a few thousand additions)
    rel = 1e-9 if r_final.dtype == torch.float64 else 1e-4
    assert torch.allclose(sum(components), r_final, atol=rel * float(r_final.abs().max()) + 1e-12), "components"
    return dict(heads=heads, mlp=mlp, embed=embed, proj_bias=bias, constant=constant, sum=total,
                logit=float(logits[0, target]), sigma_final=float(sigma))


def effect(model, x, factor, target):
    """The effect report of 'attn = attn * factor' before every softmax, image 0."""
    clean = forward(model, x)[0]
    probed = forward(model, x, attn_factor=factor)[0]
    lp, lq = clean.log_softmax(-1), probed.log_softmax(-1)
    h0 = entropy_per_block(model, x)
    h1 = entropy_per_block(model, x, attn_factor=factor)
    return dict(factor=factor, target=target, kl=float((lp.exp() * (lp - lq)).sum()),
                top1_clean=int(clean.argmax()), top1_probed=int(probed.argmax()),
                delta_logit=float(probed[target] - clean[target]),
                delta_probability=float(lq.exp()[target] - lp.exp()[target]),
                delta_entropy=[b - a for a, b in zip(h0, h1)])


# ---- models ----

def load_golden(folder, dtype):
    with open(os.path.join(GOLDEN, folder, "config.json")) as f:
        c = json.load(f)
    arch = VitArch(img_size=tuple(c["img_size"]), patch_size=c["patch_size"], in_chans=c["in_chans"],
                   num_classes=c["num_classes"], embed_dim=c["embed_dim"], depth=c["depth"],
                   num_heads=c["num_heads"], mlp_ratio=c["mlp_ratio"], qkv_bias=c["qkv_bias"],
                   layer_norm_eps=c["layer_norm_eps"])
    sd, _ = st.load_file(os.path.join(GOLDEN, folder, "timm.safetensors"))
    model = load_timm_state_dict(build(arch), sd).to(dtype)
    x = torch.from_numpy(np.load(os.path.join(GOLDEN, folder, "input.npy"))).to(dtype)
    return model, x


def check_forward(model, x):
    diff = float((forward(model, x) - model(x)).abs().max())
    assert diff < 1e-6, f"edit-point forward differs from vit_reference by {diff}"


def write_goldens(folder):
    torch.set_grad_enabled(False)
    model, x = load_golden(folder, torch.float64)
    check_forward(model, x)
    out = os.path.join(GOLDEN, folder, "interventions")
    os.makedirs(out, exist_ok=True)
    clean, corrupt = x[0:1], x[1:2]
    L, H = len(model.blocks), model.blocks[0].attn.num_heads
    T = model.arch.num_tokens
    target = int(forward(model, clean)[0].argmax())
    meta = {"image": "input.npy[0]", "corrupt": "input.npy[1]", "target": target, "dtype": "float64"}

    def save(name, value):
        st.save_npy(os.path.join(out, name), value)
        print(f"  {folder}/interventions/{name:32s} {list(np.load(os.path.join(out, name)).shape)}")

    save("ablation_zero.npy", ablation(model, clean, "zero", target))
    save("ablation_mean.npy", ablation(model, clean, "mean", target))
    c_clean = int(forward(model, clean)[0].argmax())
    c_corrupt = int(forward(model, corrupt)[0].argmax())
    classes = None
    if c_clean == c_corrupt:      # the top-1 classes agree: pick the corrupt run's runner-up, given explicitly
        classes = [c_clean, int(forward(model, corrupt)[0].topk(2).indices[1])]
        c_clean, c_corrupt = classes
    meta.update(c_clean=c_clean, c_corrupt=c_corrupt, classes_given=classes)
    blocks, positions = list(range(L)), list(range(T))
    for act in ("resid_pre", "attn_out", "mlp_out", "z"):
        grid, ld_clean, ld_corrupt = patching(model, clean, corrupt, act, blocks, positions, c_clean, c_corrupt)
        save(f"patching_{act}.npy", grid)
    meta.update(ld_clean=ld_clean, ld_corrupt=ld_corrupt)
    sub_blocks, sub_positions = [L - 1, 0], [T - 1, 0, 2]
    grid, _, _ = patching(model, clean, corrupt, "resid_pre", sub_blocks, sub_positions, c_clean, c_corrupt)
    save("patching_resid_pre_subset.npy", grid)
    meta.update(subset_blocks=sub_blocks, subset_positions=sub_positions)
    lens = logit_lens(model, clean)                                          # (L + 1, T, K)
    save("logit_lens.npy", lens[:, 0])
    save("logit_lens_patches.npy", lens[:, 1:])
    save("logit_lens_final_scale.npy", logit_lens(model, clean, final_scale=True)[:, 0])
    d = dla(model, clean, target)
    save("dla_heads.npy", d["heads"])
    save("dla_mlp.npy", d["mlp"])
    meta["dla"] = {k: v for k, v in d.items() if k not in ("heads", "mlp")}
    meta["effect_scaled3"] = effect(model, clean, 3.0, target)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"  {folder}/interventions/meta.json: target {target}, c_clean {c_clean}, c_corrupt {c_corrupt}, "
          f"LD_clean {meta['ld_clean']:.4f}, LD_corrupt {meta['ld_corrupt']:.4f}, DLA sum - logit "
          f"{d['sum'] - d['logit']:.2e}")


# ---- comparing a vitscope run ----

def check(args):
    """Compares the .npy files vitscope wrote into args.check with this script's reference on the same model."""
    torch.set_grad_enabled(False)
    dtype = {"float32": torch.float32, "float64": torch.float64}[args.dtype]
    if args.preset:
        arch, _ = vit_presets.preset(args.preset)
    else:
        with open(args.config) as f:
            c = json.load(f)
        c = c.get("model_args", c)
        arch = VitArch(img_size=tuple(c["img_size"]), patch_size=c["patch_size"], in_chans=c["in_chans"],
                       num_classes=c["num_classes"], embed_dim=c["embed_dim"], depth=c["depth"],
                       num_heads=c["num_heads"], mlp_ratio=c["mlp_ratio"], qkv_bias=c["qkv_bias"],
                       layer_norm_eps=c["layer_norm_eps"])
    sd, _ = st.load_file(args.weights)
    model = load_timm_state_dict(build(arch), sd).to(dtype)
    x = torch.from_numpy(np.load(args.input)).to(dtype)[:1]
    target = int(forward(model, x)[0].argmax()) if args.target is None else args.target
    d = args.check
    report = []

    def compare(name, ref):
        path = os.path.join(d, name)
        if not os.path.exists(path):
            return
        got = np.load(path).astype(np.float64)
        ref = ref.detach().double().numpy()
        assert got.shape == ref.shape, f"{name}: shape {got.shape} vs reference {ref.shape}"
        report.append(f"{name:28s} {list(got.shape)} max |vitscope - PyTorch| = {np.abs(got - ref).max():.3g}"
                      f" (max |reference| {np.abs(ref).max():.3g})")

    for mode in ("zero", "mean"):
        if os.path.exists(os.path.join(d, f"ablation_{mode}.npy")) or (
                mode == args.mode and os.path.exists(os.path.join(d, "ablation.npy"))):
            rows = None if args.ablate_blocks is None else [int(b) for b in args.ablate_blocks.split(",")]
            ref = ablation(model, x, mode, target, rows)
            name = "ablation.npy" if mode == args.mode else f"ablation_{mode}.npy"
            if rows is None:
                compare(name, ref)
            else:                     # only the rows computed: a full ViT-B/16 reference is 144 forwards
                got = np.load(os.path.join(d, name)).astype(np.float64)[rows]
                diff = np.abs(got - ref.numpy()[rows]).max()
                report.append(f"{name:28s} blocks {rows} max |vitscope - PyTorch| = {diff:.3g}")
    if os.path.exists(os.path.join(d, "logit_lens.npy")):
        lens = logit_lens(model, x)
        compare("logit_lens.npy", lens[:, 0])
        compare("logit_lens_patches.npy", lens[:, 1:])
    if os.path.exists(os.path.join(d, "dla_heads.npy")):
        r = dla(model, x, target)
        compare("dla_heads.npy", r["heads"])
        compare("dla_mlp.npy", r["mlp"])
    if os.path.exists(os.path.join(d, "patching.npy")):
        with open(os.path.join(d, "patching.json")) as f:
            meta = json.load(f)
        y = torch.from_numpy(np.load(args.corrupt)).to(dtype)[:1]
        grid, _, _ = patching(model, x, y, meta["act"], meta["blocks"], meta.get("positions", []),
                              meta["c_clean"], meta["c_corrupt"])
        compare("patching.npy", grid)
    print("\n".join(report) if report else "nothing to compare in " + d)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", metavar="DIR", help="a vitscope output folder to compare with the reference")
    parser.add_argument("--weights", help="timm-layout .safetensors of the checked model")
    parser.add_argument("--preset", help="its timm preset name, e.g. vit_base_patch16_224")
    parser.add_argument("--config", help="or a config.json (vitscope model folder or golden config)")
    parser.add_argument("--input", help="the preprocessed image vitscope saw, float32 .npy [1, C, H, W]")
    parser.add_argument("--corrupt", help="the corrupt image for patching, float32 .npy [1, C, H, W]")
    parser.add_argument("--target", type=int, help="the target class (default: the top-1)")
    parser.add_argument("--mode", default="zero", help="the ablation mode of ablation.npy")
    parser.add_argument("--ablate-blocks", help="compare only these blocks' rows of ablation.npy, e.g. 0,11")
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    args = parser.parse_args(argv)
    if args.check:
        check(args)
        return
    for folder in ("tiny", "tiny_gray"):
        write_goldens(folder)


if __name__ == "__main__":
    main()
