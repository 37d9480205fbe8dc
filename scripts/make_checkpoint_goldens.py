#!/usr/bin/python3
"""Writes the checkpoint-format goldens under src/test/resources/golden/checkpoints/ (issue 18).

From one set of seeded random tiny weights (the `tiny` architecture of make_goldens.py) it writes every checkpoint
shape vitscope reads besides safetensors, each with the logits the reference framework's own forward gives:

  tiny/            PyTorch state dicts: zip .pth, legacy .pth (torch.save(..., _use_new_zipfile_serialization=False)),
                   .bin, float16 and bfloat16 variants, a transposed view and shared storages, timm training and DeiT
                   checkpoints wrapping the state dict (and an EMA copy) under state_dict / state_dict_ema / model /
                   model_ema; logits from the timm mirror (scripts/vit_reference.py)
  torchvision/     a small torchvision.models.VisionTransformer's state dict and torchvision's own logits
  flax/            Google/Flax .npz files in the original release's names (no prefix, 'opt/target/'), big_vision's
                   ('params/'), and ones whose position grid differs from the model's; logits from the timm mirror
                   after the mapping of timm's `_load_weights` (transcribed below, with `resample_abs_pos_embed`)
  deit_distilled/  a tiny DeiT distilled model (dist_token, head_dist; eval output = mean of the two heads)
  malicious/       pickles that call os.system, builtins.eval and a nested getattr(__import__('os'), 'system'): a
                   reader must refuse them by name without running anything

Deterministic (seeded generators). Needs Debian's python3-torch 1.13, python3-torchvision 0.14, python3-numpy:

    /usr/bin/python3 scripts/make_checkpoint_goldens.py [--out src/test/resources/golden/checkpoints]
"""
import argparse
import collections
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402
from vit_reference import VitArch, VisionTransformer, build, load_timm_state_dict  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "src", "test", "resources", "golden", "checkpoints")

TINY = VitArch(img_size=(32, 32), patch_size=8, in_chans=3, num_classes=10, embed_dim=32, depth=3, num_heads=4,
               mlp_ratio=2.0, qkv_bias=True, layer_norm_eps=1e-6)
TINY_DATA = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], crop_pct=0.875, interpolation="bicubic")


class Out:
    def __init__(self, root):
        self.root = root

    def path(self, rel):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def done(self, rel, what):
        print(f"  {rel:40s} {os.path.getsize(self.path(rel)):7d} bytes  {what}")

    def npy(self, rel, value):
        st.save_npy(self.path(rel), value)
        self.done(rel, f"npy {list(np.load(self.path(rel)).shape)}")

    def torch_save(self, rel, obj, legacy=False):
        torch.save(obj, self.path(rel), _use_new_zipfile_serialization=not legacy)
        self.done(rel, "legacy torch.save" if legacy else "zip torch.save")

    def json(self, rel, obj):
        with open(self.path(rel), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        self.done(rel, "json")


def hub_config(arch_name, arch, data, **extra_args):
    """timm's hub config.json (architecture, num_classes, model_args, pretrained_cfg), which vitscope reads."""
    args = arch.to_json()
    args.pop("num_classes")
    args.update(extra_args)
    return {"architecture": arch_name, "num_classes": arch.num_classes, "model_args": args,
            "pretrained_cfg": {"input_size": [arch.in_chans, *arch.img_size], **data}}


def logits_of(model, x):
    with torch.no_grad():
        return model(x)


# ------------------------------------------------------------------------------------------------ PyTorch .pth

def write_pth(out, x):
    print("tiny/ (PyTorch state dicts)")
    model = build(TINY, seed=1001)
    sd = collections.OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
    ema = build(TINY, seed=1002)
    sd_ema = collections.OrderedDict((k, v.detach().clone()) for k, v in ema.state_dict().items())
    out.json("tiny/config.json", hub_config("vit_tiny_golden", TINY, TINY_DATA))
    out.npy("tiny/input.npy", x)
    out.npy("tiny/logits.npy", logits_of(model, x))
    out.npy("tiny/logits_ema.npy", logits_of(ema, x))

    out.torch_save("tiny/model_zip.pth", sd)
    out.torch_save("tiny/model_legacy.pth", sd, legacy=True)
    out.torch_save("tiny/pytorch_model.bin", sd)

    # Half precision: the reference logits are those of the rounded weights widened back to float32.
    for dtype, name in ((torch.float16, "f16"), (torch.bfloat16, "bf16")):
        half = collections.OrderedDict((k, v.to(dtype)) for k, v in sd.items())
        out.torch_save(f"tiny/model_{name}.pth", half)
        rounded = build(TINY)
        load_timm_state_dict(rounded, {k: v.float() for k, v in half.items()})
        out.npy(f"tiny/logits_{name}.npy", logits_of(rounded, x))
    out.torch_save("tiny/model_bf16_legacy.pth",
                   collections.OrderedDict((k, v.to(torch.bfloat16)) for k, v in sd.items()), legacy=True)

    # A transposed view (head.weight stored column-major: strides (1, K)) and tensors sharing one storage at
    # different offsets (cls_token and pos_embed slices of one buffer; block 0's two norm scales likewise).
    views = collections.OrderedDict(sd)
    views["head.weight"] = sd["head.weight"].t().contiguous().t()
    assert not views["head.weight"].is_contiguous()
    buf = torch.cat([sd["cls_token"].flatten(), sd["pos_embed"].flatten()])
    views["cls_token"] = buf[:TINY.embed_dim].view(1, 1, TINY.embed_dim)
    views["pos_embed"] = buf[TINY.embed_dim:].view(1, TINY.num_tokens, TINY.embed_dim)
    norms = torch.stack([sd["blocks.0.norm1.weight"], sd["blocks.0.norm2.weight"]])
    views["blocks.0.norm1.weight"], views["blocks.0.norm2.weight"] = norms[0], norms[1]
    assert views["cls_token"].storage().data_ptr() == views["pos_embed"].storage().data_ptr()
    out.torch_save("tiny/model_views.pth", views)
    out.torch_save("tiny/model_views_legacy.pth", views, legacy=True)

    # Checkpoints that wrap the state dict, as timm's train.py (with DataParallel's 'module.' prefix, the EMA copy and
    # the argparse Namespace of its arguments) and DeiT's main.py write them. timm's load_state_dict prefers the EMA.
    module_sd = collections.OrderedDict(("module." + k, v) for k, v in sd.items())
    out.torch_save("tiny/train_checkpoint.pth", {
        "epoch": 12, "arch": "vit_tiny_golden", "state_dict": module_sd, "state_dict_ema": sd_ema,
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.001, "params": [0, 1]}]},
        "version": 2, "args": argparse.Namespace(model="vit_tiny_golden", lr=0.001), "metric": 71.5})
    out.torch_save("tiny/deit_checkpoint.pth", {"model": sd, "model_ema": sd_ema, "epoch": 299})
    out.torch_save("tiny/state_dict_only.pth", {"state_dict": sd, "epoch": 1})

    # Every PyTorch file must read back as the tensors it was written from.
    for rel in ("tiny/model_zip.pth", "tiny/model_legacy.pth", "tiny/model_views.pth", "tiny/model_views_legacy.pth"):
        back = torch.load(out.path(rel))
        assert all(torch.equal(back[k], sd[k]) for k in sd), rel
    return model, sd


# ------------------------------------------------------------------------------------------------ torchvision

def write_torchvision(out, x):
    print("torchvision/")
    from torchvision.models.vision_transformer import VisionTransformer as TvViT
    tv = TvViT(image_size=32, patch_size=8, num_layers=3, num_heads=4, hidden_dim=32, mlp_dim=64,
               num_classes=10).eval()
    # torchvision zero-initialises the class token and the head: give every parameter non-trivial values.
    g = torch.Generator().manual_seed(3003)
    with torch.no_grad():
        for name, p in tv.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "encoder.ln.weight":
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("in_proj_weight"):
                p.copy_(torch.randn(p.shape, generator=g) * 2.0 / math.sqrt(32))
            elif p.dim() >= 2 and name not in ("class_token", "encoder.pos_embedding"):
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p[0].numel()))
            elif name in ("class_token", "encoder.pos_embedding"):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    sd = tv.state_dict()
    out.torch_save("torchvision/vit_tiny_tv.pth", sd)
    data = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], crop_pct=0.875, interpolation="bilinear")
    out.json("torchvision/config.json", hub_config("vit_tiny_torchvision_golden", TINY, data))
    out.npy("torchvision/logits.npy", logits_of(tv, x))
    print("    names:", ", ".join(list(sd)[:6]), "...")


# ------------------------------------------------------------------------------------------------ Google / Flax .npz

def to_flax(sd, arch, prefix="", big_vision=False):
    """The inverse of timm's _load_weights: timm state dict -> Flax names and layouts (HWIO kernels, (in, out) dense
    kernels, per-head q/k/v kernels (D, N, Dh) and out kernels (N, Dh, D))."""
    D, N = arch.embed_dim, arch.num_heads
    Dh = D // N
    a = lambda t: np.ascontiguousarray(t.detach().numpy().astype(np.float32))  # noqa: E731  (C order, as Flax saves)
    w = {}
    w["embedding/kernel"] = a(sd["patch_embed.proj.weight"].permute(2, 3, 1, 0))
    w["embedding/bias"] = a(sd["patch_embed.proj.bias"])
    w["cls"] = a(sd["cls_token"])
    w["pos_embedding" if big_vision else "Transformer/posembed_input/pos_embedding"] = a(sd["pos_embed"])
    w["Transformer/encoder_norm/scale"] = a(sd["norm.weight"])
    w["Transformer/encoder_norm/bias"] = a(sd["norm.bias"])
    w["head/kernel"] = a(sd["head.weight"].t())
    w["head/bias"] = a(sd["head.bias"])
    mha, mlp, ln2 = ("MultiHeadDotProductAttention_0", "MlpBlock_0", "LayerNorm_1") if big_vision else \
        ("MultiHeadDotProductAttention_1", "MlpBlock_3", "LayerNorm_2")
    for i in range(arch.depth):
        b = f"Transformer/encoderblock_{i}/"
        p = f"blocks.{i}."
        w[b + "LayerNorm_0/scale"] = a(sd[p + "norm1.weight"])
        w[b + "LayerNorm_0/bias"] = a(sd[p + "norm1.bias"])
        qkv_w = sd[p + "attn.qkv.weight"].reshape(3, D, D)   # (3, out, in)
        qkv_b = sd[p + "attn.qkv.bias"].reshape(3, D)
        for j, n in enumerate(("query", "key", "value")):
            w[f"{b}{mha}/{n}/kernel"] = a(qkv_w[j].t().reshape(D, N, Dh))
            w[f"{b}{mha}/{n}/bias"] = a(qkv_b[j].reshape(N, Dh))
        w[f"{b}{mha}/out/kernel"] = a(sd[p + "attn.proj.weight"].t().reshape(N, Dh, D))
        w[f"{b}{mha}/out/bias"] = a(sd[p + "attn.proj.bias"])
        w[b + ln2 + "/scale"] = a(sd[p + "norm2.weight"])
        w[b + ln2 + "/bias"] = a(sd[p + "norm2.bias"])
        for r in range(2):
            w[f"{b}{mlp}/Dense_{r}/kernel"] = a(sd[p + f"mlp.fc{r + 1}.weight"].t())
            w[f"{b}{mlp}/Dense_{r}/bias"] = a(sd[p + f"mlp.fc{r + 1}.bias"])
    return {prefix + k: v for k, v in w.items()}


def resample_abs_pos_embed(posemb, new_size, num_prefix_tokens=1, interpolation="bilinear", antialias=False):
    """timm.layers.pos_embed.resample_abs_pos_embed, as _load_weights calls it (bilinear, no antialias)."""
    num_pos_tokens = posemb.shape[1]
    if new_size[0] * new_size[1] + num_prefix_tokens == num_pos_tokens and new_size[0] == new_size[1]:
        return posemb
    hw = int(math.sqrt(num_pos_tokens - num_prefix_tokens))
    prefix, posemb = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    embed_dim = posemb.shape[-1]
    posemb = posemb.float().reshape(1, hw, hw, -1).permute(0, 3, 1, 2)
    posemb = F.interpolate(posemb, size=new_size, mode=interpolation, antialias=antialias)
    posemb = posemb.permute(0, 2, 3, 1).reshape(1, -1, embed_dim)
    return torch.cat([prefix, posemb], dim=1)


@torch.no_grad()
def load_flax(model, path):
    """timm's _load_weights (timm/models/vision_transformer.py) for a plain ViT, statement for statement."""
    def _n2p(w, t=True):
        if w.ndim == 4 and w.shape[0] == w.shape[1] == w.shape[2] == 1:
            w = w.flatten()
        if t:
            if w.ndim == 4:
                w = w.transpose([3, 2, 0, 1])
            elif w.ndim == 3:
                w = w.transpose([2, 0, 1])
            elif w.ndim == 2:
                w = w.transpose([1, 0])
        return torch.from_numpy(np.ascontiguousarray(w))

    w = np.load(path)
    prefix, big_vision = "", False
    if "opt/target/embedding/kernel" in w:
        prefix = "opt/target/"
    elif "params/embedding/kernel" in w:
        prefix, big_vision = "params/", True
    model.patch_embed.proj.weight.copy_(_n2p(w[f"{prefix}embedding/kernel"]))
    model.patch_embed.proj.bias.copy_(_n2p(w[f"{prefix}embedding/bias"]))
    model.cls_token.copy_(_n2p(w[f"{prefix}cls"], t=False))
    key = f"{prefix}pos_embedding" if big_vision else f"{prefix}Transformer/posembed_input/pos_embedding"
    pos_embed_w = _n2p(w[key], t=False)
    if pos_embed_w.shape != model.pos_embed.shape:
        pos_embed_w = resample_abs_pos_embed(pos_embed_w, new_size=model.arch.grid, num_prefix_tokens=1)
    model.pos_embed.copy_(pos_embed_w)
    model.norm.weight.copy_(_n2p(w[f"{prefix}Transformer/encoder_norm/scale"]))
    model.norm.bias.copy_(_n2p(w[f"{prefix}Transformer/encoder_norm/bias"]))
    model.head.weight.copy_(_n2p(w[f"{prefix}head/kernel"]))
    model.head.bias.copy_(_n2p(w[f"{prefix}head/bias"]))
    mha_sub, b_sub, ln1_sub = (0, 0, 1) if big_vision else (1, 3, 2)
    for i, block in enumerate(model.blocks.children()):
        block_prefix = f"{prefix}Transformer/encoderblock_{i}/"
        mha_prefix = block_prefix + f"MultiHeadDotProductAttention_{mha_sub}/"
        block.norm1.weight.copy_(_n2p(w[f"{block_prefix}LayerNorm_0/scale"]))
        block.norm1.bias.copy_(_n2p(w[f"{block_prefix}LayerNorm_0/bias"]))
        block.attn.qkv.weight.copy_(torch.cat([
            _n2p(w[f"{mha_prefix}{n}/kernel"], t=False).flatten(1).T for n in ("query", "key", "value")]))
        block.attn.qkv.bias.copy_(torch.cat([
            _n2p(w[f"{mha_prefix}{n}/bias"], t=False).reshape(-1) for n in ("query", "key", "value")]))
        block.attn.proj.weight.copy_(_n2p(w[f"{mha_prefix}out/kernel"]).flatten(1))
        block.attn.proj.bias.copy_(_n2p(w[f"{mha_prefix}out/bias"]))
        block.norm2.weight.copy_(_n2p(w[f"{block_prefix}LayerNorm_{ln1_sub}/scale"]))
        block.norm2.bias.copy_(_n2p(w[f"{block_prefix}LayerNorm_{ln1_sub}/bias"]))
        for r in range(2):
            getattr(block.mlp, f"fc{r + 1}").weight.copy_(_n2p(w[f"{block_prefix}MlpBlock_{b_sub}/Dense_{r}/kernel"]))
            getattr(block.mlp, f"fc{r + 1}").bias.copy_(_n2p(w[f"{block_prefix}MlpBlock_{b_sub}/Dense_{r}/bias"]))
    return model


def write_flax(out, x, sd):
    print("flax/")
    out.json("flax/config.json", hub_config("vit_tiny_golden", TINY, TINY_DATA))
    for rel, prefix, bv in (("flax/vit_tiny.npz", "", False), ("flax/vit_tiny_opt_target.npz", "opt/target/", False),
                            ("flax/vit_tiny_big_vision.npz", "params/", True)):
        np.savez(out.path(rel), **to_flax(sd, TINY, prefix, bv))
        out.done(rel, "np.savez, Flax names")
        loaded = load_flax(build(TINY), out.path(rel))
        assert all(torch.equal(loaded.state_dict()[k], sd[k]) for k in sd), f"{rel} does not map back to the weights"
    out.npy("flax/logits.npy", logits_of(load_flax(build(TINY), out.path("flax/vit_tiny.npz")), x))

    # Checkpoints trained at another resolution: a 3x3 grid (24 px) and a 6x6 grid (48 px) resampled to the model's 4x4.
    for grid, seed in ((3, 4003), (6, 4006)):
        other = VitArch(img_size=(8 * grid, 8 * grid), patch_size=8, in_chans=3, num_classes=10, embed_dim=32,
                        depth=3, num_heads=4, mlp_ratio=2.0)
        src = build(other, seed=seed).state_dict()
        rel = f"flax/vit_tiny_grid{grid}.npz"
        np.savez(out.path(rel), **to_flax(src, other))
        out.done(rel, f"np.savez, pos_embed grid {grid}x{grid}")
        out.npy(f"flax/logits_grid{grid}.npy", logits_of(load_flax(build(TINY), out.path(rel)), x))


# ------------------------------------------------------------------------------------------------ DeiT distilled

class DistilledVisionTransformer(VisionTransformer):
    """timm's VisionTransformerDistilled (timm/models/deit.py) at inference: a distillation token after the class
    token, a second head on it, and the mean of the two heads' logits as the output."""

    def __init__(self, arch):
        super().__init__(arch)
        D = arch.embed_dim
        self.dist_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, arch.num_patches + 2, D))
        self.head_dist = nn.Linear(D, arch.num_classes)

    def embed(self, x):
        B = x.shape[0]
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(B, -1, -1), self.dist_token.expand(B, -1, -1), x), dim=1)
        return x + self.pos_embed

    def forward(self, x):
        x = self.forward_tokens(x)
        x, x_dist = x[:, 0], x[:, 1]
        return (self.head(x) + self.head_dist(x_dist)) / 2


def write_deit(out, x):
    print("deit_distilled/")
    model = DistilledVisionTransformer(TINY).eval()
    g = torch.Generator().manual_seed(5005)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("qkv.weight"):
                p.copy_(torch.randn(p.shape, generator=g) * 2.0 / math.sqrt(TINY.embed_dim))
            elif p.dim() >= 2 and name not in ("cls_token", "dist_token", "pos_embed"):
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p[0].numel()))
            elif name in ("cls_token", "dist_token", "pos_embed"):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    out.torch_save("deit_distilled/model.pth", {"model": model.state_dict()})
    out.json("deit_distilled/config.json", hub_config("deit_tiny_distilled_golden", TINY, TINY_DATA, distilled=True))
    out.npy("deit_distilled/logits.npy", logits_of(model, x))


# ------------------------------------------------------------------------------------------------ malicious pickles

class _Reduce:
    """An object whose pickle is `fn(*args)`: how a malicious checkpoint smuggles a call in."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def write_malicious(out):
    print("malicious/ (never load these with torch.load)")
    marker = "/tmp/vitscope-pickle-payload-ran"
    weight = torch.zeros(2, 2)
    os_system = _Reduce(os.system, (f"touch {marker}",))
    out.torch_save("malicious/os_system.pth", collections.OrderedDict([("w", weight), ("x", os_system)]))
    out.torch_save("malicious/builtins_eval.pth",
                   {"state_dict": collections.OrderedDict([("w", weight)]),
                    "x": _Reduce(eval, (f"__import__('os').system('touch {marker}')",))})
    # getattr(__import__('os'), 'system'): a reduce whose argument is another reduce, tucked inside an otherwise
    # well-formed state dict after an allowed tensor rebuild.
    system = _Reduce(getattr, (_Reduce(__import__, ("os",)), "system"))
    out.torch_save("malicious/nested_reduce.pth",
                   collections.OrderedDict([("w", weight), ("meta", collections.OrderedDict([("hook", system)]))]))
    out.torch_save("malicious/os_system_legacy.pth", collections.OrderedDict([("w", weight), ("x", os_system)]),
                   legacy=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT)
    args = p.parse_args()
    torch.manual_seed(0)
    out = Out(args.out)
    x = torch.randn((2, 3, 32, 32), generator=torch.Generator().manual_seed(2101))
    _, sd = write_pth(out, x)
    write_torchvision(out, x)
    write_flax(out, x, sd)
    write_deit(out, x)
    write_malicious(out)
    for name in ("torchvision", "flax", "deit_distilled"):
        st.save_npy(out.path(f"{name}/input.npy"), x)


if __name__ == "__main__":
    main()
