#!/usr/bin/python3
"""Float32 error bounds for the ViT forward of vit_reference.py: the tolerances of vitscope's parity tests.

Every golden a test compares a float32 result with comes with two companions written by make_goldens.py:
`<name>_f64.npy`, the same computation in float64 (its exact value to ~1e-15 relative), and `<name>_bound.npy`, an
elementwise bound on how far a float32 implementation of the computation may be from it. Tests assert
|vitscope - f64| <= bound elementwise. The bound is a property of the computation and its data, not of a machine:
a different BLAS, summation order or vector width (AVX2 vs AVX-512) is inside it.

Why not a worst-case bound: the classical componentwise analysis (Higham, "Accuracy and Stability of Numerical
Algorithms", 2nd ed., ch. 3) propagates |W| e through every layer; for a 3-block ViT it grows past the values
themselves (1e10 on logits of size 2 here), because it assumes every rounding error conspires in sign. Rounding
errors do not: the probabilistic analysis of Higham & Mary ("A New Approach to Probabilistic Rounding Error
Analysis", SIAM J. Sci. Comput. 41(5), 2019) models them as independent, mean-zero and bounded by u, which gives
sqrt(n) rather than n growth with a probability that a constant lambda controls. This module follows that model
through the whole forward as a first-order *variance* propagation: each tensor carries its value v (float64) and
the variance s2 of its float32 error,

  * a dot product of length n (Linear, the patch convolution as a dot product of C*P*P, q @ k^T, attn @ v):
    s2_out = A^2 s2_B + s2_A B^2 (the Jacobian squared applied to the input variances) plus the local rounding
    variance (n + 1) u^2 / 3 (|A| |B| + |bias|)^2 (n partial sums and the products, each rounding error uniform in
    [-u, u] relative to a value bounded by the sum of magnitudes);
  * a sum: s2_a + s2_b + u^2/3 (a + b)^2; a product by a constant s (the softmax scale, rounded to float32 itself,
    and the probe's logit factor): s^2 s2 + 2 u^2/3 (s v)^2;
  * softmax: dp_i = p_i (dz_i - sum_j p_j dz_j), so s2_p_i = p_i^2 ((1 - 2 p_i) s2'_i + sum_j p_j^2 s2'_j) with
    s2' = s2_z + u^2/3 (z - max z)^2 (the subtraction of the maximum), plus (n + C_FN + 2)^2 u^2/3 p^2 for exp, the
    sum and the division (taken at its worst-case size);
  * LayerNorm: the exact Jacobian J = (gamma/sigma)(I - 1/D - xhat xhat^T / D) squared applied to the variances,
    plus rounding of the statistics (D + 3)^2 u^2/3 (|x| + mean |x|)^2 through J^2, and (C_FN + 4)^2 u^2/3 for rsqrt,
    scaling and shift;
  * GELU y = x Phi(x): y'^2 s2 + (C_FN/2 + 3)^2 u^2/3 x^2 (erf's error is absolute, Phi <= 1).

The bound is LAMBDA standard deviations plus the float32 underflow threshold (for probabilities so small that
float32 flushes them): LAMBDA = 10, where a Gaussian would exceed it with probability 2e-23 per element; the
model's independence assumption is what the margin pays for. make_goldens.py checks that PyTorch's own float32
results lie within the bounds and prints how close they come (about 1/10 to 1/3 of the bound).

u = 2^-24 (float32 unit roundoff); C_FN = 4 ulps for the vectorised exp, erf and rsqrt of PyTorch's CPU kernels
(SLEEF's and MKL's are documented at 1 to 4 ulp). Terms of order u^2 in the errors themselves are dropped. In
float64, every u-proportional term scales by 2^-29: the same bounds times 2^-29 (doubled for the float64 reference's
own error) are the tolerances of the float64 parity tests.
"""
import math

import torch

U32 = 2.0 ** -24
C_FN = 4
LAMBDA = 10.0
FLOOR = 2.0 ** -126  # float32's smallest normal number: below it, results may be flushed or denormal
R = U32 * U32 / 3  # variance of an error uniform in [-u, u]


class Bounded:
    """A float64 tensor `v` and the variance `s2` of the error of computing it in float32."""

    def __init__(self, v, s2):
        self.v = v
        self.s2 = s2

    @property
    def e(self):
        """The elementwise bound: LAMBDA standard deviations, plus float32's underflow threshold."""
        return LAMBDA * self.s2.sqrt() + FLOOR

    @staticmethod
    def exact(t):
        t = t.double()
        return Bounded(t, torch.zeros_like(t))

    def map(self, f):
        return Bounded(f(self.v), f(self.s2))

    def __getitem__(self, idx):
        return Bounded(self.v[idx], self.s2[idx])


def add(a, b):
    v = a.v + b.v
    return Bounded(v, a.s2 + b.s2 + R * v * v)


def mul_const(a, s):
    v = a.v * s
    return Bounded(v, s * s * a.s2 + 2 * R * v * v)


def matmul(a, b):
    """a @ b over the last dim of a (length n); both bounded."""
    n = a.v.shape[-1]
    v = a.v @ b.v
    mag = a.v.abs() @ b.v.abs()
    return Bounded(v, (a.v * a.v) @ b.s2 + a.s2 @ (b.v * b.v) + (n + 1) * R * mag * mag)


def linear(x, w, b):
    """x @ w^T + b with exact (float32) weights."""
    w = w.double()
    n = w.shape[-1]
    v = x.v @ w.t()
    mag = x.v.abs() @ w.abs().t()
    if b is not None:
        b = b.double()
        v = v + b
        mag = mag + b.abs()
    return Bounded(v, x.s2 @ (w * w).t() + (n + 1) * R * mag * mag)


def softmax(z):
    n = z.v.shape[-1]
    p = torch.softmax(z.v, dim=-1)
    d = z.v - z.v.max(dim=-1, keepdim=True).values
    s2 = z.s2 + R * d * d
    spread = (p * p * s2).sum(dim=-1, keepdim=True)
    return Bounded(p, p * p * ((1 - 2 * p) * s2 + spread) + (n + C_FN + 2) ** 2 * R * p * p)


def layer_norm(x, weight, bias, eps):
    g = weight.double()
    beta = bias.double()
    D = x.v.shape[-1]
    mu = x.v.mean(dim=-1, keepdim=True)
    sigma = torch.sqrt(x.v.var(dim=-1, unbiased=False, keepdim=True) + eps)
    xhat = (x.v - mu) / sigma
    y = xhat * g + beta
    eye = torch.eye(D, dtype=torch.float64)
    # J[..., i, j] = g_i / sigma (delta_ij - 1/D - xhat_i xhat_j / D)
    J = (g / sigma).unsqueeze(-1) * (eye - 1.0 / D - xhat.unsqueeze(-1) * xhat.unsqueeze(-2) / D)
    J2 = J * J
    stats = (D + 3) ** 2 * R * (x.v.abs() + x.v.abs().mean(dim=-1, keepdim=True)) ** 2
    s2 = (J2 @ (x.s2 + stats).unsqueeze(-1)).squeeze(-1) + (C_FN + 4) ** 2 * R * (xhat * g) ** 2 + R * beta * beta
    return Bounded(y, s2)


def gelu(x):
    v = x.v
    phi = 0.5 * (1 + torch.erf(v / math.sqrt(2)))
    dens = torch.exp(-0.5 * v * v) / math.sqrt(2 * math.pi)
    y = v * phi
    d = phi + v * dens
    return Bounded(y, d * d * x.s2 + (C_FN / 2 + 3) ** 2 * R * v * v)


def patch_embed(x, proj):
    """Conv2d(kernel = stride = P) as a dot product of length C*P*P per output; (B, C, H, W) -> (B, L, D)."""
    w = proj.weight.double()
    b = proj.bias.double()
    P = w.shape[-1]
    n = w[0].numel()
    conv = torch.nn.functional.conv2d
    v = conv(x.v, w, b, stride=P)
    mag = conv(x.v.abs(), w.abs(), b.abs(), stride=P)
    s2 = conv(x.s2, w * w, None, stride=P) + (n + 1) * R * mag * mag
    return Bounded(v, s2).map(lambda t: t.flatten(2).transpose(1, 2))

class Recorder:
    """What a bounded forward keeps: per-block post-softmax attention, block 1's attention locals, fc1 outputs."""

    def __init__(self):
        self.attn = []
        self.locals = {}
        self.fc1 = []


def attention(m, x, factor, rec, index):
    B, N, C = x.v.shape
    h = m.num_heads
    qkv = linear(x, m.qkv.weight, m.qkv.bias).map(
        lambda t: t.reshape(B, N, 3, h, C // h).permute(2, 0, 3, 1, 4))  # (3, B, h, N, Dh)
    q, k, v = qkv[0], qkv[1], qkv[2]
    attn = mul_const(matmul(q, k.map(lambda t: t.transpose(-2, -1))), m.scale)
    if factor is not None:
        attn = mul_const(attn, factor)
    attn = softmax(attn)
    rec.attn.append(attn)
    out = matmul(attn, v).map(lambda t: t.transpose(1, 2).reshape(B, N, C))
    out = linear(out, m.proj.weight, m.proj.bias)
    if index == 1:
        rec.locals = {"arg_x": x, "x": out, "qkv": qkv, "q": q, "k": k, "v": v, "attn": attn}
    return out


def forward(model, x, factors=None, eps=None):
    """The bounded forward of a vit_reference.VisionTransformer on float32 input x.

    factors: None, or a list with one pre-softmax factor (or None) per block. eps: the LayerNorm eps to use instead
    of the model's (the Hugging Face variant of a golden uses 1e-12). Returns a dict of Bounded tensors: embed
    (tokens after pos_embed), features (all tokens after the final norm), logits; and the Recorder.
    """
    rec = Recorder()
    arch = model.arch
    eps = arch.layer_norm_eps if eps is None else eps
    x = Bounded.exact(x)
    B = x.v.shape[0]
    t = patch_embed(x, model.patch_embed.proj)
    cls = Bounded.exact(model.cls_token.detach().expand(B, -1, -1))
    t = Bounded(torch.cat((cls.v, t.v), dim=1), torch.cat((cls.s2, t.s2), dim=1))
    t = add(t, Bounded.exact(model.pos_embed.detach()))
    out = {"embed": t}
    for i, blk in enumerate(model.blocks):
        f = None if factors is None else factors[i]
        a = attention(blk.attn, layer_norm(t, blk.norm1.weight.detach(), blk.norm1.bias.detach(), eps), f, rec, i)
        t = add(t, a)
        h = linear(layer_norm(t, blk.norm2.weight.detach(), blk.norm2.bias.detach(), eps),
                   blk.mlp.fc1.weight.detach(), blk.mlp.fc1.bias.detach())
        rec.fc1.append(h)
        h = linear(gelu(h), blk.mlp.fc2.weight.detach(), blk.mlp.fc2.bias.detach())
        t = add(t, h)
    feats = layer_norm(t, model.norm.weight.detach(), model.norm.bias.detach(), eps)
    out["features"] = feats
    out["logits"] = linear(feats[:, 0], model.head.weight.detach(), model.head.bias.detach())
    return out, rec


def stack(bounded_list):
    return Bounded(torch.stack([b.v for b in bounded_list]), torch.stack([b.s2 for b in bounded_list]))


def entropy(attn):
    """Mean attention entropy in nats of a Bounded (…, T, T) attention over every axis but the first:
    H = -sum_j p_j log p_j with dH/dp_j = -(log p_j + 1), the variances propagated like the value (a mean of m
    terms divides the summed variance by m^2), plus the rounding of the sums in double. Entries with p = 0 give 0."""
    p = attn.v
    logp = torch.where(p > 0, p.log(), torch.zeros_like(p))
    h = -(p * logp).sum(dim=-1)
    s2 = ((logp + 1) ** 2 * attn.s2).sum(dim=-1)
    dims = tuple(range(1, h.dim()))
    m = h[0].numel()
    return Bounded(h.mean(dim=dims), s2.sum(dim=dims) / (m * m))
