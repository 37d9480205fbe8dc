#!/usr/bin/python3
"""PyTorch's time for the mirror's eager forward, for vitscope's benchmark to print beside its own.

    /usr/bin/python3 scripts/bench_pytorch.py vit_base_patch16_224 [--batch 1 8] [--threads 2] [--runs 7] [--warmup 2]

Random weights (the time does not depend on them), float32, torch.no_grad, eval mode. For each batch size: warm-up
runs, then the median of --runs timed forwards, printed as ms/image together with GFLOP/s. Prints which BLAS torch
uses and the OpenBLAS environment, since OPENBLAS_CORETYPE (set on some machines here to work around old OpenBLAS
bugs) picks the GEMM kernel and so changes the result; compare with it unset in that one command:
`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/bench_pytorch.py ...`.

OMP_WAIT_POLICY defaults to PASSIVE here (an explicit setting wins). Debian's torch runs its element-wise ops on a
libgomp pool but its GEMMs on OpenBLAS's own pthread pool; libgomp's idle workers spin by default and take the cores
OpenBLAS needs. On 2 busy cores that made batch 1 two to six times slower in our runs.

The figures are wall-clock: the load average is printed before and after, and a load above the core count means other
processes shared the CPUs and the numbers are too high.
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read by libgomp when torch loads it, so before the import

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_presets  # noqa: E402
from vit_reference import build  # noqa: E402


def flops_per_image(arch):
    """2 × multiply-adds of one forward (patch embedding, blocks, head), as VitConfig.flopsPerImage in Java."""
    T, D, L, M = arch.num_tokens, arch.embed_dim, arch.num_patches, arch.mlp_hidden
    patch = 2.0 * L * D * arch.in_chans * arch.patch_size ** 2
    block = 2.0 * T * D * 3 * D + 2.0 * T * T * D * 2 + 2.0 * T * D * D + 2.0 * T * D * M * 2
    return patch + arch.depth * block + 2.0 * D * arch.num_classes


def openblas_core():
    """The kernel OpenBLAS picked, if torch links it and it says."""
    try:
        import ctypes
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        return f"{lib.openblas_get_corename().decode()} ({lib.openblas_get_config().decode()})"
    except (OSError, AttributeError):
        return "unknown (libopenblas.so.0 not loadable)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("arch", help="timm preset: " + ", ".join(vit_presets.names()))
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    arch, _ = vit_presets.preset(args.arch)
    model = build(arch, seed=0)
    env = {k: os.environ.get(k, "(unset)") for k in
           ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, OpenBLAS core {openblas_core()}, env {env}")
    print(f"load average before: {load_average()} on {os.cpu_count()} CPUs")
    gflop = flops_per_image(arch) / 1e9
    for batch in args.batch:
        x = torch.randn(batch, arch.in_chans, *arch.img_size, generator=torch.Generator().manual_seed(0))
        for _ in range(args.warmup):
            model(x)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
        per_image = statistics.median(times) / batch
        print(f"{args.arch} batch {batch}: {per_image * 1e3:.1f} ms/image (median of {args.runs}, "
              f"min {min(times) / batch * 1e3:.1f}), {gflop / per_image:.0f} GFLOP/s at {gflop:.1f} GFLOP/image")
    print(f"load average after: {load_average()}")


def load_average():
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


if __name__ == "__main__":
    main()
