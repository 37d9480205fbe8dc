#!/usr/bin/python3
"""timm preset names -> architecture and data config, the same table as vitscope's Presets.java.

The architectures are those of current timm's registry. timm 0.4.5 differs for two names, and we follow current timm
(as vitscope does): it had no vit_tiny_patch16_224, and its vit_small_patch16_224 was a custom D=768, depth 8,
8 heads, mlp_ratio 3, no qkv bias model. 0.4.5 spelled the DeiT models vit_deit_*; both spellings are accepted.
"""
from vit_reference import VitArch

INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# name: (patch, D, depth, heads, family)
_TABLE = {
    "vit_tiny_patch16_224": (16, 192, 12, 3, "vit"),
    "vit_small_patch16_224": (16, 384, 12, 6, "vit"),
    "vit_base_patch16_224": (16, 768, 12, 12, "vit"),
    "vit_base_patch32_224": (32, 768, 12, 12, "vit"),
    "vit_large_patch16_224": (16, 1024, 24, 16, "vit"),
    "deit_tiny_patch16_224": (16, 192, 12, 3, "deit"),
    "deit_small_patch16_224": (16, 384, 12, 6, "deit"),
    "deit_base_patch16_224": (16, 768, 12, 12, "deit"),
}

_DATA = {
    # ViT (Dosovitskiy et al. 2020) weights: inception mean/std, crop_pct 0.9; DeiT (Touvron et al. 2021): ImageNet.
    "vit": dict(mean=INCEPTION_MEAN, std=INCEPTION_STD, crop_pct=0.9, interpolation="bicubic"),
    "deit": dict(mean=IMAGENET_MEAN, std=IMAGENET_STD, crop_pct=0.875, interpolation="bicubic"),
}


def names():
    return list(_TABLE)


def preset(name):
    """(VitArch, data config dict) of a timm name; a tag after a dot (vit_base_patch16_224.augreg_in1k) is ignored."""
    arch_name = name.split(".", 1)[0]
    if arch_name.startswith("vit_deit_"):
        arch_name = arch_name[len("vit_"):]
    if arch_name not in _TABLE:
        raise ValueError(f"unknown model '{name}'; valid models: {', '.join(_TABLE)}")
    patch, dim, depth, heads, family = _TABLE[arch_name]
    arch = VitArch(img_size=(224, 224), patch_size=patch, in_chans=3, num_classes=1000, embed_dim=dim, depth=depth,
                   num_heads=heads, mlp_ratio=4.0, qkv_bias=True, layer_norm_eps=1e-6)
    return arch, dict(_DATA[family])
