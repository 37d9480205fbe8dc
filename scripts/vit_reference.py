#!/usr/bin/python3
"""A PyTorch mirror of timm 0.4.5's VisionTransformer, the reference vitscope's numbers are checked against.

Module and parameter names are timm's (patch_embed.proj, cls_token, pos_embed, blocks.i.{norm1, attn.qkv, attn.proj,
norm2, mlp.fc1, mlp.fc2}, norm, head), so a timm state dict loads with strict=True. Forward code follows
timm/models/vision_transformer.py at tag v0.4.5 statement for statement (dropout and drop-path omitted: they are
identities at inference). The only additions are two scoped hook points in Attention.forward:

  * scaled_attention(model, factor): multiplies every block's pre-softmax `attn` by `factor`, the breakpoint of the
    NoPdb tutorial (`attn = attn * 3` inserted before `attn = attn.softmax(dim=-1)`).
  * record_attention(model): records every Attention.forward call's locals at return, as NoPdb's capture_call does
    (x is then the projected output; the input is kept as arg_x).

Both are identities unless entered, and are undone when their `with` block ends. (NoPdb's locals also hold `self`,
which is left out.)

Checked against the real thing: timm v0.4.5's own Mlp/Attention/Block/PatchEmbed/VisionTransformer classes, given
the golden weights of make_goldens.py, return bit-identical logits for all three golden models.

Abbreviations: B batch, C channels, H×W image, P patch, L patches, T tokens (L + 1), D embed dim, N heads,
Dh head dim, M MLP hidden, K classes. Attention.forward keeps timm's local names, where N is the token count (T)
and C the width (D); there `h` stands for the heads.
"""
import contextlib
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn


@dataclass(frozen=True)
class VitArch:
    """VisionTransformer.__init__ arguments (timm's names), with a non-square image allowed."""
    img_size: tuple = (224, 224)  # (H, W)
    patch_size: int = 16
    in_chans: int = 3
    num_classes: int = 1000
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    qkv_bias: bool = True
    layer_norm_eps: float = 1e-6

    def __post_init__(self):
        h, w = self.img_size
        if h % self.patch_size or w % self.patch_size:
            raise ValueError(f"image size {h}x{w} is not a multiple of the patch size {self.patch_size}")
        if self.embed_dim % self.num_heads:
            raise ValueError(f"embed dim {self.embed_dim} is not divisible by {self.num_heads} heads")

    @property
    def grid(self):
        return self.img_size[0] // self.patch_size, self.img_size[1] // self.patch_size

    @property
    def num_patches(self):
        return self.grid[0] * self.grid[1]

    @property
    def num_tokens(self):
        return self.num_patches + 1

    @property
    def mlp_hidden(self):
        return int(self.embed_dim * self.mlp_ratio)  # timm's Block: int(dim * mlp_ratio)

    def to_json(self):
        d = asdict(self)
        d["img_size"] = list(self.img_size)
        return d


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()  # exact erf form, as nn.GELU's default
        self.fc2 = nn.Linear(hidden_features, in_features)

    def forward(self, x):
        x = self.fc1(x)  # (B, T, M)
        x = self.act(x)
        x = self.fc2(x)  # (B, T, D)
        return x


class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias):
        super().__init__()
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        # Hook points: both off unless a context manager below attaches them.
        self.pre_softmax_factor = None
        self.recorder = None

    def forward(self, x):
        arg_x = x if self.recorder is not None else None
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)  # (3, B, h, N, Dh)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (B, h, N, Dh) each

        attn = (q @ k.transpose(-2, -1)) * self.scale  # (B, h, N, N)
        if self.pre_softmax_factor is not None:
            attn = attn * self.pre_softmax_factor
        attn = attn.softmax(dim=-1)

        x = (attn @ v).transpose(1, 2).reshape(B, N, C)  # (B, N, C)
        x = self.proj(x)
        if self.recorder is not None:
            self.recorder(self, arg_x, dict(x=x, qkv=qkv, q=q, k=k, v=v, attn=attn, B=B, N=N, C=C))
        return x


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio, qkv_bias, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads=num_heads, qkv_bias=qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.img_size = tuple(img_size)
        self.patch_size = (patch_size, patch_size)
        self.num_patches = (img_size[1] // patch_size) * (img_size[0] // patch_size)
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        B, C, H, W = x.shape
        if (H, W) != self.img_size:
            raise ValueError(f"Input image size ({H}*{W}) doesn't match model ({self.img_size[0]}*{self.img_size[1]}).")
        x = self.proj(x).flatten(2).transpose(1, 2)  # (B, D, Gh, Gw) -> (B, L, D), patches in row-major order
        return x


class VisionTransformer(nn.Module):
    def __init__(self, arch: VitArch):
        super().__init__()
        self.arch = arch
        D = arch.embed_dim
        self.patch_embed = PatchEmbed(arch.img_size, arch.patch_size, arch.in_chans, D)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, arch.num_tokens, D))
        self.blocks = nn.ModuleList([
            Block(D, arch.num_heads, arch.mlp_ratio, arch.qkv_bias, arch.layer_norm_eps) for _ in range(arch.depth)])
        self.norm = nn.LayerNorm(D, eps=arch.layer_norm_eps)
        self.head = nn.Linear(D, arch.num_classes)

    def embed(self, x):
        """Tokens after the position embedding is added (B, T, D)."""
        B = x.shape[0]
        x = self.patch_embed(x)  # (B, L, D)
        cls_tokens = self.cls_token.expand(B, -1, -1)  # (B, 1, D)
        x = torch.cat((cls_tokens, x), dim=1)  # (B, T, D)
        x = x + self.pos_embed
        return x

    def forward_tokens(self, x):
        """All tokens after the final norm (B, T, D); 0.4.5's forward_features is this at [:, 0]."""
        x = self.embed(x)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)

    def forward_features(self, x):
        return self.forward_tokens(x)[:, 0]  # (B, D)

    def forward(self, x):
        return self.head(self.forward_features(x))  # (B, K)


def attention_modules(model):
    """(name, Attention) pairs in block order, names from the module tree (blocks.0.attn, ...)."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, Attention)]


@contextlib.contextmanager
def scaled_attention(model, factor):
    """Within the block, every Attention multiplies its pre-softmax logits by `factor` (NoPdb's `attn = attn * 3`)."""
    mods = attention_modules(model)
    for _, m in mods:
        m.pre_softmax_factor = factor
    try:
        yield
    finally:
        for _, m in mods:
            m.pre_softmax_factor = None


@contextlib.contextmanager
def record_attention(model):
    """Yields a list that receives one entry per Attention.forward call, in call order:
    {"name": "blocks.i.attn", "arg_x": input, "locals": {x, qkv, q, k, v, attn, B, N, C}} (tensors cloned)."""
    calls = []
    mods = attention_modules(model)
    names = {id(m): name for name, m in mods}

    def record(module, arg_x, local_vars):
        calls.append({
            "name": names[id(module)],
            "arg_x": arg_x.detach().clone(),
            "locals": {k: (v.detach().clone() if isinstance(v, torch.Tensor) else v) for k, v in local_vars.items()},
        })

    for _, m in mods:
        m.recorder = record
    try:
        yield calls
    finally:
        for _, m in mods:
            m.recorder = None


def random_init(model, seed, qk_gain=2.0):
    """Seeded random weights that make a test worth having: every parameter non-trivial (LayerNorm affine included)
    and attention far from uniform.

    timm's own init (trunc_normal std .02) gives near-uniform attention, which would let a wrong softmax axis or a
    wrong head split pass unnoticed. Here the qkv weights have std qk_gain / sqrt(D): with unit-variance LayerNorm
    outputs a pre-softmax logit q.k * Dh^-0.5 then has a standard deviation of about qk_gain^2 (4 by default), so
    each row of attention is dominated by a few tokens. Other layers use std 1/sqrt(fan_in), keeping activations
    near unit scale at any width.
    """
    g = torch.Generator().manual_seed(seed)

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=g) * std + mean

    arch = model.arch
    D = arch.embed_dim
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
                p.copy_(normal(p.shape, 0.1, 1.0))
            elif "norm" in name and name.endswith(".bias"):
                p.copy_(normal(p.shape, 0.1))
            elif name == "cls_token" or name == "pos_embed":
                p.copy_(normal(p.shape, 0.5))
            elif name.endswith("attn.qkv.weight"):
                p.copy_(normal(p.shape, qk_gain / math.sqrt(D)))
            elif name.endswith(".weight"):
                fan_in = p[0].numel()
                p.copy_(normal(p.shape, 1.0 / math.sqrt(fan_in)))
            elif name.endswith(".bias"):
                p.copy_(normal(p.shape, 0.1))
            else:
                raise AssertionError(f"random_init does not know parameter {name}")
    return model


def build(arch, seed=None, qk_gain=2.0):
    """A model in eval mode, randomly initialised when a seed is given."""
    model = VisionTransformer(arch).eval()
    if seed is not None:
        random_init(model, seed, qk_gain)
    return model


def load_timm_state_dict(model, state_dict):
    """Strict load of a timm-layout state dict (float32)."""
    model.load_state_dict({k: v.float() for k, v in state_dict.items()}, strict=True)
    return model
