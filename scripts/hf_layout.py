#!/usr/bin/python3
"""Hugging Face transformers' ViTForImageClassification layout: a timm -> HF state-dict converter, HF's config.json
and preprocessor_config.json, and a small mirror of HF's module tree used to check the converter.

The converter is a pure dict -> dict function, in the manner of timm's checkpoint_filter_fn. Names follow
transformers/models/vit/modeling_vit.py (ViTEmbeddings, ViTPatchEmbeddings.projection, ViTSelfAttention
query/key/value, ViTSelfOutput.dense, ViTIntermediate.dense, ViTOutput.dense, ViTLayer.layernorm_before/after,
ViTModel.layernorm, ViTForImageClassification.classifier; the classifier model has no pooler).
timm's fused qkv Linear (3D, D) splits along dim 0 in q, k, v order.
"""
import collections
import re

import torch
import torch.nn as nn

# HF's PIL resample codes, as ViTImageProcessor stores them.
_PIL_RESAMPLE = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}

_BLOCK_RENAMES = {
    "norm1": "layernorm_before",
    "attn.proj": "attention.output.dense",
    "norm2": "layernorm_after",
    "mlp.fc1": "intermediate.dense",
    "mlp.fc2": "output.dense",
}


def timm_to_hf(state_dict):
    """timm VisionTransformer names -> ViTForImageClassification names (same tensors, qkv split in three)."""
    out = collections.OrderedDict()
    for name, t in state_dict.items():
        if name == "cls_token":
            out["vit.embeddings.cls_token"] = t
        elif name == "pos_embed":
            out["vit.embeddings.position_embeddings"] = t
        elif name.startswith("patch_embed.proj."):
            out["vit.embeddings.patch_embeddings.projection." + name.split(".")[-1]] = t
        elif name.startswith("norm."):
            out["vit.layernorm." + name.split(".")[-1]] = t
        elif name.startswith("head."):
            out["classifier." + name.split(".")[-1]] = t
        else:
            m = re.fullmatch(r"blocks\.(\d+)\.(.+)\.(weight|bias)", name)
            if not m:
                raise ValueError(f"no Hugging Face name for timm parameter '{name}'")
            i, module, kind = m.groups()
            prefix = f"vit.encoder.layer.{i}."
            if module == "attn.qkv":
                q, k, v = t.chunk(3, dim=0)
                for part, tensor in (("query", q), ("key", k), ("value", v)):
                    out[f"{prefix}attention.attention.{part}.{kind}"] = tensor.contiguous()
            elif module in _BLOCK_RENAMES:
                out[f"{prefix}{_BLOCK_RENAMES[module]}.{kind}"] = t
            else:
                raise ValueError(f"no Hugging Face name for timm parameter '{name}'")
    return out


def hf_config(arch, labels, layer_norm_eps=1e-12):
    """config.json of a ViTForImageClassification with the architecture of `arch` (a vit_reference.VitArch)."""
    h, w = arch.img_size
    return {
        "architectures": ["ViTForImageClassification"],
        "model_type": "vit",
        "attention_probs_dropout_prob": 0.0,
        "encoder_stride": arch.patch_size,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "hidden_size": arch.embed_dim,
        "id2label": {str(i): name for i, name in enumerate(labels)},
        "label2id": {name: i for i, name in enumerate(labels)},
        "image_size": h if h == w else [h, w],
        "initializer_range": 0.02,
        "intermediate_size": arch.mlp_hidden,
        "layer_norm_eps": layer_norm_eps,
        "num_attention_heads": arch.num_heads,
        "num_channels": arch.in_chans,
        "num_hidden_layers": arch.depth,
        "patch_size": arch.patch_size,
        "qkv_bias": arch.qkv_bias,
        "torch_dtype": "float32",
    }


def hf_preprocessor_config(arch, mean, std, interpolation="bicubic"):
    """preprocessor_config.json of HF's ViTImageProcessor: resize straight to (H, W) (no crop), rescale 1/255,
    normalize."""
    h, w = arch.img_size
    return {
        "image_processor_type": "ViTImageProcessor",
        "do_resize": True,
        "size": {"height": h, "width": w},
        "resample": _PIL_RESAMPLE[interpolation],
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": list(mean),
        "image_std": list(std),
    }


# ---- A mirror of HF's module tree, only to prove that the converted names and tensors compute the same network. ----

class _Linear(nn.Module):
    def __init__(self, i, o, bias=True):
        super().__init__()
        self.dense = nn.Linear(i, o, bias=bias)


class _SelfAttention(nn.Module):
    def __init__(self, D, heads, qkv_bias):
        super().__init__()
        self.num_attention_heads = heads
        self.attention_head_size = D // heads
        self.query = nn.Linear(D, D, bias=qkv_bias)
        self.key = nn.Linear(D, D, bias=qkv_bias)
        self.value = nn.Linear(D, D, bias=qkv_bias)

    def _split(self, x):  # (B, T, D) -> (B, N, T, Dh)
        return x.view(x.shape[0], x.shape[1], self.num_attention_heads, self.attention_head_size).permute(0, 2, 1, 3)

    def forward(self, hidden_states):
        key = self._split(self.key(hidden_states))
        value = self._split(self.value(hidden_states))
        query = self._split(self.query(hidden_states))
        scores = torch.matmul(query, key.transpose(-1, -2)) * self.attention_head_size ** -0.5  # (B, N, T, T)
        probs = nn.functional.softmax(scores, dim=-1, dtype=torch.float32)
        context = torch.matmul(probs, value).transpose(1, 2).contiguous()  # (B, T, N, Dh)
        return context.view(context.shape[0], context.shape[1], -1), probs


class _Attention(nn.Module):
    def __init__(self, D, heads, qkv_bias):
        super().__init__()
        self.attention = _SelfAttention(D, heads, qkv_bias)
        self.output = _Linear(D, D)


class _Layer(nn.Module):
    def __init__(self, D, heads, M, qkv_bias, eps):
        super().__init__()
        self.attention = _Attention(D, heads, qkv_bias)
        self.intermediate = _Linear(D, M)
        self.output = _Linear(M, D)
        self.layernorm_before = nn.LayerNorm(D, eps=eps)
        self.layernorm_after = nn.LayerNorm(D, eps=eps)

    def forward(self, hidden_states):
        context, probs = self.attention.attention(self.layernorm_before(hidden_states))
        hidden_states = self.attention.output.dense(context) + hidden_states
        x = nn.functional.gelu(self.intermediate.dense(self.layernorm_after(hidden_states)))
        return self.output.dense(x) + hidden_states, probs


class _PatchEmbeddings(nn.Module):
    def __init__(self, C, D, P):
        super().__init__()
        self.projection = nn.Conv2d(C, D, kernel_size=P, stride=P)


class _Embeddings(nn.Module):
    def __init__(self, C, D, P, T):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.patch_embeddings = _PatchEmbeddings(C, D, P)
        self.position_embeddings = nn.Parameter(torch.zeros(1, T, D))

    def forward(self, pixel_values):
        e = self.patch_embeddings.projection(pixel_values).flatten(2).transpose(1, 2)
        e = torch.cat((self.cls_token.expand(e.shape[0], -1, -1), e), dim=1)
        return e + self.position_embeddings


class _Encoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layer = nn.ModuleList([
            _Layer(config["hidden_size"], config["num_attention_heads"], config["intermediate_size"],
                   config["qkv_bias"], config["layer_norm_eps"]) for _ in range(config["num_hidden_layers"])])


class _ViTModel(nn.Module):
    def __init__(self, config, num_tokens):
        super().__init__()
        self.embeddings = _Embeddings(config["num_channels"], config["hidden_size"], config["patch_size"], num_tokens)
        self.encoder = _Encoder(config)
        self.layernorm = nn.LayerNorm(config["hidden_size"], eps=config["layer_norm_eps"])


class HfViTForImageClassification(nn.Module):
    """Same parameter names as transformers' ViTForImageClassification; forward returns (logits, attentions)."""

    def __init__(self, config):
        super().__init__()
        size = config["image_size"]
        h, w = (size, size) if isinstance(size, int) else size
        num_tokens = (h // config["patch_size"]) * (w // config["patch_size"]) + 1
        self.vit = _ViTModel(config, num_tokens)
        self.classifier = nn.Linear(config["hidden_size"], len(config["id2label"]))

    def forward(self, pixel_values):
        hidden = self.vit.embeddings(pixel_values)
        attentions = []
        for layer in self.vit.encoder.layer:
            hidden, probs = layer(hidden)
            attentions.append(probs)
        sequence_output = self.vit.layernorm(hidden)
        return self.classifier(sequence_output[:, 0, :]), attentions
