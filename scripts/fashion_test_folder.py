#!/usr/bin/env python3
"""Writes the 10,000 Fashion-MNIST test images as an ImageFolder tree of 28x28 grayscale PNGs: DIR/<class>/<i>.png.

The input of docs/datasets.md's accuracy-vs-factor table (`vitscope dataset DIR --labels-from folder`). Standard
library only, reusing fashion_demo_images.py's IDX reader and PNG writer:

    python3 scripts/fashion_test_folder.py OUT [--data /usr/share/datasets/fashion-mnist] [--limit N]

<class> is the class index 0..9 (Fashion-MNIST's order, as models/fashion_vit names them) and <i> the test index.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_demo_images import png_gray, read_idx  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--limit", type=int, default=None, help="only the first N test images")
    args = ap.parse_args()
    (n, h, w), pixels = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
    _, labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz"))
    n = n if args.limit is None else min(n, args.limit)
    for k in range(10):
        os.makedirs(os.path.join(args.out, str(k)), exist_ok=True)
    for i in range(n):
        png_gray(os.path.join(args.out, str(labels[i]), "%05d.png" % i), w, h, pixels[i * h * w:(i + 1) * h * w])
    print("wrote %d images under %s/0..9" % (n, args.out))


if __name__ == "__main__":
    main()
