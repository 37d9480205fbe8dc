#!/usr/bin/env python3
"""Writes images/fashion/: the first Fashion-MNIST test image of each class as a 28x28 grayscale PNG.

Standard library only (gzip, zlib, struct), so it runs anywhere Debian's dataset-fashion-mnist is installed:

    python3 scripts/fashion_demo_images.py [--data /usr/share/datasets/fashion-mnist] [--out images/fashion]

Files are named fashion_<test index>_<class>.png, e.g. fashion_0_ankle_boot.png.
"""
import argparse
import gzip
import os
import re
import struct
import zlib

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def png_gray(path, width, height, pixels):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + pixels[r * width:(r + 1) * width] for r in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))  # 8-bit grayscale
        f.write(chunk(b"IDAT", zlib.compress(rows, 9)))
        f.write(chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default="images/fashion")
    args = ap.parse_args()
    (n, h, w), pixels = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
    _, labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz"))
    os.makedirs(args.out, exist_ok=True)
    seen = set()
    for i in range(n):
        k = labels[i]
        if k in seen:
            continue
        seen.add(k)
        slug = re.sub("[^a-z0-9]+", "_", LABELS[k].lower())
        path = os.path.join(args.out, "fashion_%d_%s.png" % (i, slug))
        png_gray(path, w, h, pixels[i * h * w:(i + 1) * h * w])
        print(path)
        if len(seen) == len(LABELS):
            break


if __name__ == "__main__":
    main()
