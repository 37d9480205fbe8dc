#!/usr/bin/python3
"""PyTorch references for vitscope's gradient relevance (io.vitscope.relevance), computed independently of vitscope.

For the golden models written by make_goldens.py (tiny: 3 blocks, 4 heads, 32x32 RGB; tiny_rect: 2 blocks, 24x40),
on their golden inputs, it writes under src/test/resources/golden/relevance/<model>/:

  targets.npy     int64 (B)             the class y is the logit of (top-1 for image 0, a fixed other class after)
  attn.npy        (depth, B, N, T, T)   post-softmax attention A_l
  attn_grad.npy   (depth, B, N, T, T)   dy/dA_l through the whole network (A_l's .grad via retain_grad)
  input_grad.npy  (B, C, H, W)          dy/dx, x the normalised input
  chefer.npy, grad_rollout.npy, attn_gradcam.npy, integrated_gradients.npy   (B, Gh, Gw) maps, definitions below
  ig_abs.npy      (B, Gh, Gw)           sum over each patch of |x - x'| * sum_i w_i |g_i|: the scale IG's rounding
                                        error is relative to (its terms cancel, so the map itself is no scale)
  ig_ends.npy     (B, 2)                y(x), y(x') in float32; the completeness gap is sum(IG) - (y(x) - y(x'))

and for tiny, the faithfulness test on 6 seeded images (faith_input.npy (6, C, H, W) normalised, faith_pixels.npy the
same in [0, 1]): faith_maps.npz (method -> (6, Gh, Gw)), faith_upsampled_chefer.npy (6, H, W) and
faith_curves.npz ("method/direction" -> accuracy at p = 0, 10, ..., 90 %).

Definitions (issue 14), y = logit of the target class, A_l = (N, T, T) for one image, grad_l = dy/dA_l:
  chefer        R = I; for l: R += mean_h(relu(grad_l * A_l)) @ R; map = R[0, 1:]
  grad_rollout  fused_l = mean_h(A_l * grad_l), negatives set to 0; rollout: a = fused + I, rows / row sums,
                result = a @ result from result = I; map = result[0, 1:] (no discard)
  attn_gradcam  last block: w_h = mean_j grad_L[h, 0, 1:]; map = relu(mean_h(w_h * A_L[h, 0, 1:]))
  integrated_gradients  x' = 0 (normalised space); 50-point Gauss-Legendre rule on [0, 1]
                (numpy.polynomial.legendre.leggauss(50), nodes (t + 1) / 2, weights w / 2);
                attribution = (x - x') * sum_i w_i dy/dx(x' + a_i (x - x')); summed over channels and each patch
Faithfulness (Chefer et al. 2021's perturbation test): each map upsampled to H x W with
F.interpolate(mode="bilinear", align_corners=False); for p, k = floor(H*W*p/100) pixels - the k largest values
(positive) or the k smallest (negative), ties to the lower row-major index (a stable sort) - are set to 0 in [0, 1]
pixel space in every channel, then normalised; accuracy = share of images whose top-1 is the unperturbed top-1.
Extra baselines: rollout (mean fusion, all blocks), mean (last block, attn[h, :, 1:] averaged over queries, then over
heads), cls (last block, attn[h, 0, 1:] averaged over heads).

Deterministic; rerun with /usr/bin/python3 scripts/make_relevance_goldens.py.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402
from vit_reference import VitArch, build, load_timm_state_dict  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")
IG_STEPS = 50


def load(folder):
    with open(os.path.join(ROOT, folder, "config.json")) as f:
        cfg = json.load(f)
    arch = VitArch(img_size=tuple(cfg["img_size"]), patch_size=cfg["patch_size"], in_chans=cfg["in_chans"],
                   num_classes=cfg["num_classes"], embed_dim=cfg["embed_dim"], depth=cfg["depth"],
                   num_heads=cfg["num_heads"], mlp_ratio=cfg["mlp_ratio"], qkv_bias=cfg["qkv_bias"],
                   layer_norm_eps=cfg["layer_norm_eps"])
    model = load_timm_state_dict(build(arch), st.load_file(os.path.join(ROOT, folder, "timm.safetensors"))[0])
    for p in model.parameters():
        p.requires_grad_(False)
    return model, cfg


def attention_and_grads(model, x, targets):
    """A_l and dy/dA_l for every block (y summed over the batch: images do not interact), and dy/dx."""
    attns = []
    originals = [blk.attn.forward for blk in model.blocks]

    def patched(module):
        def forward(xx):
            B, N, C = xx.shape
            qkv = module.qkv(xx).reshape(B, N, 3, module.num_heads, C // module.num_heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            attn = (q @ k.transpose(-2, -1)) * module.scale
            attn = attn.softmax(dim=-1)
            attn.retain_grad()
            attns.append(attn)
            out = (attn @ v).transpose(1, 2).reshape(B, N, C)
            return module.proj(out)
        return forward

    for blk in model.blocks:
        blk.attn.forward = patched(blk.attn)
    try:
        x = x.clone().requires_grad_(True)
        logits = model(x)
        y = logits.gather(1, targets[:, None]).sum()
        y.backward()
    finally:
        for blk, f in zip(model.blocks, originals):
            blk.attn.forward = f
    a = torch.stack([t.detach() for t in attns])      # (depth, B, N, T, T)
    g = torch.stack([t.grad.detach() for t in attns])  # (depth, B, N, T, T)
    return logits.detach(), a, g, x.grad.detach()


def chefer(a, g):
    T = a.shape[-1]
    R = torch.eye(T, dtype=torch.float64)
    for l in range(a.shape[0]):
        cam = (g[l] * a[l]).clamp(min=0).mean(dim=0).double()
        R = R + cam @ R
    return R[0, 1:].float()


def grad_rollout(a, g):
    T = a.shape[-1]
    eye = torch.eye(T, dtype=torch.float64)
    result = eye.clone()
    for l in range(a.shape[0]):
        fused = (a[l] * g[l]).mean(dim=0)
        fused[fused < 0] = 0
        m = fused.double() + eye
        m = m / m.sum(dim=-1, keepdim=True)
        result = m @ result
    return result[0, 1:].float()


def attn_gradcam(a, g):
    cam = a[-1][:, 0, 1:]                               # (N, L)
    w = g[-1][:, 0, 1:].mean(dim=-1, keepdim=True)     # (N, 1)
    return (cam * w).mean(dim=0).clamp(min=0)


def rollout(a):
    T = a.shape[-1]
    eye = torch.eye(T, dtype=torch.float64)
    result = eye.clone()
    for l in range(a.shape[0]):
        m = a[l].mean(dim=0).double() + eye
        m = m / m.sum(dim=-1, keepdim=True)
        result = m @ result
    return result[0, 1:].float()


def integrated_gradients(model, x, target, patch):
    """x (C, H, W). Returns the patch map, the |.| scale map, y(x), y(x')."""
    t, w = np.polynomial.legendre.leggauss(IG_STEPS)
    alphas = torch.tensor((t + 1) / 2, dtype=torch.float32)
    weights = torch.tensor(w / 2, dtype=torch.float64)
    xs = (alphas[:, None, None, None] * x[None]).requires_grad_(True)    # x' = 0: x' + a (x - x') = a x
    logits = model(xs)
    logits[:, target].sum().backward()
    grads = xs.grad.double()                                            # (S, C, H, W)
    avg = (weights[:, None, None, None] * grads).sum(dim=0)
    scale = (weights[:, None, None, None] * grads.abs()).sum(dim=0)
    attr = x.double() * avg
    attr_abs = x.double().abs() * scale
    with torch.no_grad():
        ends = model(torch.stack([x, torch.zeros_like(x)]))[:, target]
    C, H, W = x.shape

    def pool(v):
        return v.sum(dim=0).reshape(H // patch, patch, W // patch, patch).sum(dim=(1, 3)).float()

    return pool(attr), pool(attr_abs), ends


def write_model(folder, alt_target):
    model, cfg = load(folder)
    x = torch.from_numpy(np.load(os.path.join(ROOT, folder, "input.npy")))
    arch = model.arch
    gh, gw = arch.grid
    with torch.no_grad():
        top1 = model(x).argmax(dim=1)
    targets = top1.clone()
    targets[1:] = alt_target
    _, a, g, xg = attention_and_grads(model, x, targets)
    B = x.shape[0]
    maps = {"chefer": [], "grad_rollout": [], "attn_gradcam": [], "integrated_gradients": []}
    ig_abs, ig_ends = [], []
    for b in range(B):
        ab, gb = a[:, b], g[:, b]
        maps["chefer"].append(chefer(ab, gb).reshape(gh, gw))
        maps["grad_rollout"].append(grad_rollout(ab, gb).reshape(gh, gw))
        maps["attn_gradcam"].append(attn_gradcam(ab, gb).reshape(gh, gw))
        ig, iga, ends = integrated_gradients(model, x[b], int(targets[b]), arch.patch_size)
        maps["integrated_gradients"].append(ig)
        ig_abs.append(iga)
        ig_ends.append(ends)
    out = os.path.join(ROOT, "relevance", folder)
    os.makedirs(out, exist_ok=True)
    st.save_npy(os.path.join(out, "targets.npy"), targets.numpy().astype(np.int64))
    st.save_npy(os.path.join(out, "attn.npy"), a)
    st.save_npy(os.path.join(out, "attn_grad.npy"), g)
    st.save_npy(os.path.join(out, "input_grad.npy"), xg)
    for name, v in maps.items():
        st.save_npy(os.path.join(out, name + ".npy"), torch.stack(v))
    st.save_npy(os.path.join(out, "ig_abs.npy"), torch.stack(ig_abs))
    st.save_npy(os.path.join(out, "ig_ends.npy"), torch.stack(ig_ends))
    gap = [float(m.double().sum() - (e[0] - e[1])) for m, e in zip(maps["integrated_gradients"], ig_ends)]
    print(f"relevance/{folder}: targets {targets.tolist()} (top-1 {top1.tolist()}), |dy/dA| max "
          f"{g.abs().max():.3g}, |dy/dx| max {xg.abs().max():.3g}, IG completeness gaps {['%.2e' % v for v in gap]}")


def faithfulness(folder, n=6, seed=3001):
    model, cfg = load(folder)
    arch = model.arch
    C, (H, W) = arch.in_chans, arch.img_size
    gh, gw = arch.grid
    mean = torch.tensor(cfg["mean"], dtype=torch.float32)[:, None, None]
    std = torch.tensor(cfg["std"], dtype=torch.float32)[:, None, None]
    gen = torch.Generator().manual_seed(seed)
    # Smooth images (a 4x4 random field upsampled) so that predictions do not hinge on single pixels.
    coarse = torch.rand((n, C, 4, 4), generator=gen)
    pixels = F.interpolate(coarse, size=(H, W), mode="bilinear", align_corners=False).clamp(0, 1)
    pixels = torch.round(pixels * 255) / 255
    x = (pixels - mean) / std
    with torch.no_grad():
        top1 = model(x).argmax(dim=1)
    _, a, g, _ = attention_and_grads(model, x, top1)
    maps = {"chefer": [], "grad-rollout": [], "attn-gradcam": [], "rollout": [], "mean": [], "cls": []}
    for b in range(n):
        ab, gb = a[:, b], g[:, b]
        maps["chefer"].append(chefer(ab, gb))
        maps["grad-rollout"].append(grad_rollout(ab, gb))
        maps["attn-gradcam"].append(attn_gradcam(ab, gb))
        maps["rollout"].append(rollout(ab))
        maps["mean"].append(ab[-1][:, :, 1:].mean(dim=1).mean(dim=0))
        maps["cls"].append(ab[-1][:, 0, 1:].mean(dim=0))
    curves = {}
    upsampled = {}
    for name, v in maps.items():
        m = torch.stack(v).reshape(n, 1, gh, gw)
        up = F.interpolate(m, size=(H, W), mode="bilinear", align_corners=False).reshape(n, H * W)
        upsampled[name] = up
        for direction in ("positive", "negative"):
            acc = []
            for p in range(0, 100, 10):
                k = H * W * p // 100
                data = pixels.clone().reshape(n, C, H * W)
                for b in range(n):
                    key = -up[b].numpy() if direction == "positive" else up[b].numpy()
                    idx = torch.from_numpy(np.argsort(key, kind="stable")[:k].copy())
                    data[b][:, idx] = 0
                data = (data.reshape(n, C, H, W) - mean) / std
                with torch.no_grad():
                    pred = model(data).argmax(dim=1)
                acc.append(float((pred == top1).double().mean()))
            curves[name + "/" + direction] = np.array(acc, dtype=np.float64)
    out = os.path.join(ROOT, "relevance", folder)
    st.save_npy(os.path.join(out, "faith_pixels.npy"), pixels)
    st.save_npy(os.path.join(out, "faith_input.npy"), x)
    st.save_npz(os.path.join(out, "faith_maps.npz"), {k: torch.stack(v).reshape(n, gh, gw) for k, v in maps.items()})
    st.save_npy(os.path.join(out, "faith_upsampled_chefer.npy"), upsampled["chefer"].reshape(n, H, W))
    np.savez(os.path.join(out, "faith_curves.npz"), **curves)
    for k, v in curves.items():
        print(f"  {k:26s} {' '.join('%.3f' % c for c in v)}  AUC {np.trapz(v, dx=0.1) * 100:.2f}")


def main():
    torch.set_num_threads(1)
    write_model("tiny", alt_target=2)
    write_model("tiny_rect", alt_target=3)
    faithfulness("tiny")


if __name__ == "__main__":
    main()
