#!/usr/bin/python3
"""Writes two folders of real images for `vitscope bench --folder` (docs/predict-pipeline.md):

    /usr/bin/python3 scripts/make_bench_folders.py OUT [--count 300] [--data /usr/share/datasets/fashion-mnist]

OUT/fashion: the first COUNT Fashion-MNIST test images as 28x28 grayscale PNGs, flat (the embedded model's input).
OUT/photos:  COUNT JPEGs (quality 90, 4:2:0) of 640x480 cut from the four photos in images/photos at seeded random
             positions and scales, mirrored half the time: camera-sized files for ViT-B/16's 224x224 transform.
Pillow (Debian's python3-pil) for the JPEGs; the PNGs use fashion_demo_images.py's standard-library writer.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_demo_images import png_gray, read_idx  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    fashion = os.path.join(args.out, "fashion")
    photos = os.path.join(args.out, "photos")
    os.makedirs(fashion, exist_ok=True)
    os.makedirs(photos, exist_ok=True)
    (n, h, w), pixels = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
    for i in range(min(n, args.count)):
        png_gray(os.path.join(fashion, "%05d.png" % i), w, h, pixels[i * h * w:(i + 1) * h * w])
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "images", "photos")
    sources = [Image.open(os.path.join(here, f)).convert("RGB") for f in sorted(os.listdir(here))]
    rng = random.Random(0)
    for i in range(args.count):
        src = sources[i % len(sources)]
        scale = rng.uniform(0.6, 1.0)
        cw, ch = int(src.width * scale), int(src.height * scale)
        x, y = rng.randint(0, src.width - cw), rng.randint(0, src.height - ch)
        img = src.crop((x, y, x + cw, y + ch)).resize((640, 480), Image.BICUBIC)
        if rng.random() < 0.5:
            img = ImageOps.mirror(img)
        img.save(os.path.join(photos, "%05d.jpg" % i), quality=90)
    print("wrote %d PNGs under %s and %d JPEGs under %s" % (min(n, args.count), fashion, args.count, photos))


if __name__ == "__main__":
    main()
