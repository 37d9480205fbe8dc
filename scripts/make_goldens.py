#!/usr/bin/python3
"""Writes vitscope's golden files under src/test/resources/golden/ (see the README.md written there).

Deterministic: weights and inputs come from seeded torch generators, so a rerun rewrites the same numbers (up to the
last bits of float32 arithmetic if BLAS changes). Run from anywhere:

    /usr/bin/python3 scripts/make_goldens.py [--out src/test/resources/golden]

Needs Debian's python3-torch (1.13) and python3-numpy. Prints every file it writes with its shape.
"""
import argparse
import copy
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attention_analysis as aa  # noqa: E402
import error_bounds as eb  # noqa: E402
import hf_layout  # noqa: E402
import safetensors_io as st  # noqa: E402
from vit_reference import VitArch, build, load_timm_state_dict, record_attention, scaled_attention  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "src", "test", "resources", "golden")

TINY = VitArch(img_size=(32, 32), patch_size=8, in_chans=3, num_classes=10, embed_dim=32, depth=3, num_heads=4,
               mlp_ratio=2.0, qkv_bias=True, layer_norm_eps=1e-6)
TINY_GRAY = VitArch(img_size=(28, 28), patch_size=7, in_chans=1, num_classes=10, embed_dim=24, depth=2, num_heads=3,
                    mlp_ratio=2.0, qkv_bias=True, layer_norm_eps=1e-6)
TINY_RECT = VitArch(img_size=(24, 40), patch_size=8, in_chans=3, num_classes=5, embed_dim=16, depth=2, num_heads=2,
                    mlp_ratio=2.0, qkv_bias=True, layer_norm_eps=1e-6)

TINY_DATA = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], crop_pct=0.875, interpolation="bicubic")
TINY_LABELS = ["aardvark", "bicycle", "cumulus", "dulcimer", "espresso", "fjord", "gazebo", "harmonica", "iguana",
               "jackfruit"]
META = {"format": "pt", "source": "vitscope scripts/make_goldens.py (random weights)"}


class Writer:
    def __init__(self, root):
        self.root = root

    def path(self, rel):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def npy(self, rel, value):
        st.save_npy(self.path(rel), value)
        arr = np.load(self.path(rel))
        print(f"  {rel:34s} {arr.dtype} {list(arr.shape)}")

    def npz(self, rel, arrays):
        st.save_npz(self.path(rel), arrays)
        with np.load(self.path(rel)) as z:
            desc = ", ".join(f"{k}{list(z[k].shape)}" for k in z.files)
        print(f"  {rel:34s} npz {{{desc}}}")

    def bounded(self, rel, b, f32=None):
        """`rel`_f64.npy (the value in float64) and `rel`_bound.npy (the float32 error bound): see error_bounds.py.
        With f32, the float32 result PyTorch computed (the golden `rel`.npy) must lie within the bound."""
        for suffix, t in (("_f64", b.v), ("_bound", b.e)):
            np.save(self.path(rel + suffix + ".npy"), np.array(t.detach().double().numpy(), order="C"))
        note = ""
        if f32 is not None:
            ratio = ((f32.double() - b.v).abs() / b.e).max().item()
            assert ratio <= 1, f"{rel}: PyTorch's float32 result is outside the float32 error bound ({ratio:.2f})"
            note = f", PyTorch float32 error / bound <= {ratio:.3f}"
        print(f"  {rel + '_{f64,bound}':34s} float64 {list(b.v.shape)}, max bound {b.e.max().item():.2e}{note}")

    def bounded_npz(self, rel, arrays):
        for suffix, pick in (("_f64", lambda b: b.v), ("_bound", lambda b: b.e)):
            np.savez(self.path(rel + suffix + ".npz"),
                     **{k: np.array(pick(b).detach().double().numpy(), order="C") for k, b in arrays.items()})
        print(f"  {rel + '_{f64,bound}.npz':34s} float64 {{{', '.join(arrays)}}}")

    def safetensors(self, rel, state_dict, dtype="F32"):
        st.save_file(state_dict, self.path(rel), dtype=dtype, metadata=META)
        print(f"  {rel:34s} {dtype} safetensors, {len(state_dict)} tensors, {os.path.getsize(self.path(rel))} bytes")

    def json(self, rel, obj):
        with open(self.path(rel), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        print(f"  {rel:34s} json")

    def text(self, rel, lines):
        with open(self.path(rel), "w") as f:
            f.write("".join(line + "\n" for line in lines))
        print(f"  {rel:34s} text, {len(lines)} lines")


def run(model, x):
    """logits (B, K) and stacked post-softmax attention (depth, B, heads, T, T), plus the recorded calls."""
    with torch.no_grad(), record_attention(model) as calls:
        logits = model(x)
    return logits, torch.stack([c["locals"]["attn"] for c in calls]), calls


def rounded_copy(state_dict, dtype):
    """The weights as a reader of a `dtype` safetensors file sees them once widened back to float32."""
    torch_dtype = {"F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    return {k: v.to(torch_dtype).float() for k, v in state_dict.items()}


def attention_stats(attn):
    T = attn.shape[-1]
    max_prob = attn.max(dim=-1).values.mean().item()
    entropy = -(attn * attn.clamp_min(1e-30).log()).sum(dim=-1).mean().item()
    per_block = [round(attn[b].max(dim=-1).values.mean().item(), 3) for b in range(attn.shape[0])]
    return (f"mean max attention prob {max_prob:.3f} (uniform would be {1 / T:.3f}), per block {per_block}; "
            f"mean entropy {entropy:.3f} nats vs log(T) = {math.log(T):.3f}")


def input_tensor(seed, shape):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def write_tiny(w):
    print("tiny/")
    model = build(TINY, seed=1001)
    sd = model.state_dict()
    x = input_tensor(2001, (2, TINY.in_chans, *TINY.img_size))

    w.json("tiny/config.json", {**TINY.to_json(), **TINY_DATA})
    w.text("tiny/labels.txt", TINY_LABELS)
    w.safetensors("tiny/timm.safetensors", sd, "F32")
    w.safetensors("tiny/timm_f16.safetensors", sd, "F16")
    w.safetensors("tiny/timm_bf16.safetensors", sd, "BF16")

    # The stored files must read back as the same tensors (F32) or as their rounding (F16, BF16).
    for rel, expect in (("tiny/timm.safetensors", sd), ("tiny/timm_f16.safetensors", rounded_copy(sd, "F16")),
                        ("tiny/timm_bf16.safetensors", rounded_copy(sd, "BF16"))):
        back, _ = st.load_file(w.path(rel))
        assert list(back) == list(expect), rel
        assert all(torch.equal(back[k], expect[k].float()) for k in expect), f"{rel} does not read back"

    w.npy("tiny/input.npy", x)
    logits, attn, calls = run(model, x)
    w.npy("tiny/logits.npy", logits)
    with torch.no_grad():
        w.npy("tiny/tokens_pos_embed.npy", model.embed(x))
        w.npy("tiny/features.npy", model.forward_tokens(x))
    w.npy("tiny/attn.npy", attn)

    call = next(c for c in calls if c["name"] == "blocks.1.attn")
    loc = call["locals"]
    w.npz("tiny/block1_attn_locals.npz", {
        "x": loc["x"], "qkv": loc["qkv"], "q": loc["q"], "k": loc["k"], "v": loc["v"], "attn": loc["attn"],
        "B": np.array(loc["B"], dtype=np.int64), "N": np.array(loc["N"], dtype=np.int64),
        "C": np.array(loc["C"], dtype=np.int64), "arg_x": call["arg_x"]})

    for dtype, rel in (("F16", "tiny/logits_f16.npy"), ("BF16", "tiny/logits_bf16.npy")):
        narrow = load_timm_state_dict(build(TINY), rounded_copy(sd, dtype))
        with torch.no_grad():
            lg = narrow(x)
        w.npy(rel, lg)
        print(f"    {dtype} weights: max |logits - logits_f32| = {(lg - logits).abs().max().item():.2e}")

    for factor, rel in ((3, "scaled3"), (0.5, "scaled0.5")):
        with scaled_attention(model, factor):
            lg, at, _ = run(model, x)
        w.npy(f"tiny/{rel}_logits.npy", lg)
        if factor == 3:
            w.npy(f"tiny/{rel}_attn.npy", at)
        print(f"    x{factor} pre-softmax: max |logits - unscaled| = {(lg - logits).abs().max().item():.3f}; "
              + attention_stats(at))

    write_analysis(w, "tiny", attn, full=True)
    write_bounds_tiny(w, model, sd, x, logits, attn, calls)

    # The same weights in Hugging Face's layout, with HF's default LayerNorm eps.
    hf_sd = hf_layout.timm_to_hf(sd)
    hf_cfg = hf_layout.hf_config(TINY, TINY_LABELS, layer_norm_eps=1e-12)
    w.json("tiny/hf/config.json", hf_cfg)
    w.json("tiny/hf/preprocessor_config.json",
           hf_layout.hf_preprocessor_config(TINY, TINY_DATA["mean"], TINY_DATA["std"], TINY_DATA["interpolation"]))
    w.safetensors("tiny/hf/model.safetensors", hf_sd, "F32")
    hf_back, _ = st.load_file(w.path("tiny/hf/model.safetensors"))
    hf_logits, hf_attn = run_hf(hf_cfg, hf_back, x)
    w.npy("tiny/logits_hf.npy", hf_logits)
    print(f"    HF layout, eps 1e-12: max |logits_hf - logits| = {(hf_logits - logits).abs().max().item():.2e}, "
          f"max |attn diff| = {(hf_attn - attn).abs().max().item():.2e}")
    # With timm's eps the two layouts are the same network: only summation order may differ.
    same_logits, same_attn = run_hf({**hf_cfg, "layer_norm_eps": TINY.layer_norm_eps}, hf_back, x)
    diff = (same_logits - logits).abs().max().item()
    print(f"    HF layout, eps 1e-6: max |logits diff| = {diff:.2e}, "
          f"max |attn diff| = {(same_attn - attn).abs().max().item():.2e}")
    assert diff < 1e-5, "the HF layout does not reproduce the timm model"

    print("    attention: " + attention_stats(attn))
    for b in range(TINY.depth):
        print(f"      block {b}: " + attention_stats(attn[b:b + 1]))


def f32_eps(eps):
    """The LayerNorm eps as vitscope passes it (DJL's layerNorm takes a float): the float64 goldens use it too, so
    that they are the exact value of the computation a float64 vitscope model performs."""
    return float(np.float32(eps))


def check_f64(model, x, bounded, eps=None):
    """The bounded forward's float64 values must be the reference module's own float64 forward."""
    m64 = copy.deepcopy(model).double()
    for mod in m64.modules():
        if isinstance(mod, torch.nn.LayerNorm):
            mod.eps = f32_eps(eps if eps is not None else mod.eps)
    with torch.no_grad():
        ref = m64(x.double())
    d = (ref - bounded["logits"].v).abs().max().item()
    assert d < 1e-12, f"the bounded forward's float64 logits differ from the reference module's by {d}"


def write_bounds_tiny(w, model, sd, x, logits, attn, calls):
    """float64 values and float32 error bounds for every float32 golden of tiny/ that a test compares with, and the
    goldens that make ProbeTest and ScalingExperimentTest independent of the code they test."""
    eps = f32_eps(TINY.layer_norm_eps)
    depth = TINY.depth
    b, rec = eb.forward(model, x, eps=eps)
    check_f64(model, x, b)
    w.bounded("tiny/logits", b["logits"], logits)
    w.bounded("tiny/probs", eb.softmax(b["logits"]), torch.softmax(logits, dim=-1))
    with torch.no_grad():
        w.bounded("tiny/tokens_pos_embed", b["embed"], model.embed(x))
        w.bounded("tiny/features", b["features"], model.forward_tokens(x))
    w.bounded("tiny/attn", eb.stack(rec.attn), attn)
    write_bounded_analysis(w, "tiny", eb.stack(rec.attn), full=True)
    w.bounded("tiny/entropy", eb.entropy(eb.stack([a[0] for a in rec.attn])))
    loc = rec.locals
    call = next(c for c in calls if c["name"] == "blocks.1.attn")
    for k in ("x", "qkv", "q", "k", "v", "attn"):
        ratio = ((call["locals"][k].double() - loc[k].v).abs() / loc[k].e).max().item()
        assert ratio <= 1, f"blocks.1.attn local {k} outside its bound ({ratio:.2f})"
    w.bounded_npz("tiny/block1_attn_locals", loc)

    # fc1's output in every block (B, T, M), for the probe's MLP-site test.
    fc1 = []
    hooks = [blk.mlp.fc1.register_forward_hook(lambda m, i, o: fc1.append(o.detach().clone()))
             for blk in model.blocks]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    w.npy("tiny/fc1.npy", torch.stack(fc1))
    w.bounded("tiny/fc1", eb.stack(rec.fc1), torch.stack(fc1))

    for dtype, rel in (("F16", "tiny/logits_f16"), ("BF16", "tiny/logits_bf16")):
        narrow = load_timm_state_dict(build(TINY), rounded_copy(sd, dtype))
        bn, _ = eb.forward(narrow, x, eps=eps)
        with torch.no_grad():
            w.bounded(rel, bn["logits"], narrow(x))

    for factor, rel in ((3, "scaled3"), (0.5, "scaled0.5")):
        bs, rs = eb.forward(model, x, factors=[factor] * depth, eps=eps)
        with scaled_attention(model, factor):
            lg, at, _ = run(model, x)
        w.bounded(f"tiny/{rel}_logits", bs["logits"], lg)
        w.bounded(f"tiny/{rel}_probs", eb.softmax(bs["logits"]), torch.softmax(lg, dim=-1))
        w.bounded(f"tiny/{rel}_attn", eb.stack(rs.attn), at)
        w.bounded(f"tiny/{rel}_entropy", eb.entropy(eb.stack([a[0] for a in rs.attn])))

    # x3 in block 0 only (a breakpoint on one instance): every later block sees a changed input.
    model.blocks[0].attn.pre_softmax_factor = 3
    try:
        lg, at, _ = run(model, x)
    finally:
        model.blocks[0].attn.pre_softmax_factor = None
    w.npy("tiny/scaled3_block0_logits.npy", lg)
    w.npy("tiny/scaled3_block0_attn.npy", at)
    b0, r0 = eb.forward(model, x, factors=[3] + [None] * (depth - 1), eps=eps)
    w.bounded("tiny/scaled3_block0_logits", b0["logits"], lg)
    w.bounded("tiny/scaled3_block0_attn", eb.stack(r0.attn), at)

    # The Hugging Face folder's model: the same weights with LayerNorm eps 1e-12.
    bh, _ = eb.forward(model, x, eps=f32_eps(1e-12))
    check_f64(model, x, bh, eps=1e-12)
    w.bounded("tiny/logits_hf", bh["logits"])
    w.bounded("tiny/probs_hf", eb.softmax(bh["logits"]))
    for factor, rel in ((3, "scaled3"), (0.5, "scaled0.5")):
        bs, _ = eb.forward(model, x, factors=[factor] * depth, eps=f32_eps(1e-12))
        w.bounded(f"tiny/{rel}_logits_hf", bs["logits"])
        w.bounded(f"tiny/{rel}_probs_hf", eb.softmax(bs["logits"]))


def bounded_analysis(fn, attn):
    """An analysis of attention (a function of the whole [depth, B, N, T, T] array) with its float32 bound: its exact
    value from the float64 attention, and the attention's error variances carried through the analysis' Jacobian
    (autograd, one backward pass per output): var(out_k) = sum_i (d out_k / d attn_i)^2 var(attn_i). The analysis'
    own rounding (relative, a few ulps of non-negative sums) is added by the tests."""
    a = attn.v.clone().requires_grad_(True)
    out = fn(a)
    flat = out.reshape(-1)
    s2 = torch.empty_like(flat)
    for k in range(flat.numel()):
        (g,) = torch.autograd.grad(flat[k], a, retain_graph=True)
        s2[k] = (g * g * attn.s2).sum()
    return eb.Bounded(out.detach(), s2.reshape(out.shape).detach())


def write_bounded_analysis(w, folder, attn, full):
    with torch.enable_grad():
        w.bounded(f"{folder}/patch_mean", bounded_analysis(aa.patch_mean, attn))
        w.bounded(f"{folder}/rollout_mean", bounded_analysis(lambda a: aa.rollout(a, "mean"), attn))
        if full:
            w.bounded(f"{folder}/patch_cls", bounded_analysis(aa.patch_cls, attn))
            w.bounded(f"{folder}/rollout_max", bounded_analysis(lambda a: aa.rollout(a, "max"), attn))
            w.bounded(f"{folder}/rollout_min", bounded_analysis(lambda a: aa.rollout(a, "min"), attn))
            w.bounded(f"{folder}/rollout_mean_discard0.5",
                      bounded_analysis(lambda a: aa.rollout(a, "mean", discard_ratio=0.5), attn))


def write_bounds_small(w, folder, arch, model, x, logits, attn):
    b, rec = eb.forward(model, x, eps=f32_eps(arch.layer_norm_eps))
    check_f64(model, x, b)
    w.bounded(f"{folder}/logits", b["logits"], logits)
    w.bounded(f"{folder}/probs", eb.softmax(b["logits"]), torch.softmax(logits, dim=-1))
    w.bounded(f"{folder}/attn", eb.stack(rec.attn), attn)


def run_hf(cfg, state_dict, x):
    model = hf_layout.HfViTForImageClassification(cfg).eval()
    model.load_state_dict(state_dict, strict=True)
    with torch.no_grad():
        logits, attentions = model(x)
    return logits, torch.stack(attentions)


def write_analysis(w, folder, attn, full):
    w.npy(f"{folder}/patch_mean.npy", aa.patch_mean(attn))
    if full:
        w.npy(f"{folder}/patch_cls.npy", aa.patch_cls(attn))
    w.npy(f"{folder}/rollout_mean.npy", aa.rollout(attn, "mean"))
    if full:
        w.npy(f"{folder}/rollout_max.npy", aa.rollout(attn, "max"))
        w.npy(f"{folder}/rollout_min.npy", aa.rollout(attn, "min"))
        w.npy(f"{folder}/rollout_mean_discard0.5.npy", aa.rollout(attn, "mean", discard_ratio=0.5))


def write_small(w, folder, arch, seed, batch, analysis):
    print(f"{folder}/")
    model = build(arch, seed=seed)
    x = input_tensor(seed + 1000, (batch, arch.in_chans, *arch.img_size))
    w.json(f"{folder}/config.json", arch.to_json())
    w.safetensors(f"{folder}/timm.safetensors", model.state_dict(), "F32")
    w.npy(f"{folder}/input.npy", x)
    logits, attn, _ = run(model, x)
    w.npy(f"{folder}/logits.npy", logits)
    w.npy(f"{folder}/attn.npy", attn)
    write_bounds_small(w, folder, arch, model, x, logits, attn)
    if analysis:
        w.npy(f"{folder}/patch_mean.npy", aa.patch_mean(attn))
        w.npy(f"{folder}/rollout_mean.npy", aa.rollout(attn, "mean"))
    print("    attention: " + attention_stats(attn))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="golden folder (default: %(default)s)")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    w = Writer(args.out)
    write_tiny(w)
    write_small(w, "tiny_gray", TINY_GRAY, seed=1002, batch=2, analysis=False)
    write_small(w, "tiny_rect", TINY_RECT, seed=1003, batch=1, analysis=True)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.out) for f in fs)
    print(f"total size of {args.out}: {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
