#!/usr/bin/python3
"""Reference attention analyses computed from post-softmax attention maps attn[depth, B, heads, T, T].

patch_mean: for each block, image and head, the attention each patch receives, averaged over all query rows
            (the class token's row included): attn[..., :, 1:].mean(query axis) -> [depth, B, heads, L].
patch_cls:  the class token's attention to each patch: attn[..., 0, 1:] -> [depth, B, heads, L].
rollout:    attention rollout of the class token (Abnar & Zuidema 2020, "Quantifying Attention Flow in
            Transformers"), with the head fusion and discard step of jacobgil/vit-explain's rollout(), through
            blocks 0..i for every i -> [depth, B, L]. For one image and one i:

                result = I                                   (T x T)
                for b in 0..i:
                    fused = fuse(attn[b], over heads)        (mean, max or min; T x T)
                    if discard > 0:
                        flat = fused.flatten()               (a view: writing it writes fused)
                        k = int(flat.numel() * discard)
                        idx = indices of the k smallest values of flat (torch.topk(largest=False))
                        drop index 0 from idx                (never discard the class token's self-attention)
                        flat[idx] = 0
                    a = fused + I                            (the residual connection)
                    a = a / a.sum(dim=-1, keepdim=True)      (rows sum to one)
                    result = a @ result
                output result[0, 1:]                         (no normalisation for display)
"""
import torch

_FUSIONS = {
    "mean": lambda a: a.mean(dim=0),
    "max": lambda a: a.max(dim=0).values,
    "min": lambda a: a.min(dim=0).values,
}


def patch_mean(attn):
    return attn[..., :, 1:].mean(dim=-2)


def patch_cls(attn):
    return attn[..., 0, 1:]


def rollout(attn, head_fusion="mean", discard_ratio=0.0):
    """attn: [depth, B, heads, T, T] -> [depth, B, L]; entry i is the rollout through blocks 0..i."""
    fuse = _FUSIONS[head_fusion]
    depth, batch, _, T, _ = attn.shape
    eye = torch.eye(T, dtype=attn.dtype)
    out = torch.empty(depth, batch, T - 1, dtype=attn.dtype)
    for n in range(batch):
        result = eye.clone()
        for b in range(depth):
            fused = fuse(attn[b, n]).clone()  # (T, T)
            if discard_ratio > 0:
                flat = fused.view(-1)
                k = int(flat.numel() * discard_ratio)
                _, idx = flat.topk(k, largest=False)
                idx = idx[idx != 0]
                flat[idx] = 0
            a = fused + eye
            a = a / a.sum(dim=-1, keepdim=True)
            result = a @ result
            out[b, n] = result[0, 1:]
    return out
