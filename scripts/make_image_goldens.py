#!/usr/bin/python3
"""Writes the test images and the Pillow/torchvision reference outputs that io.vitscope.image is checked against.

Rerun from the repository root with Debian's Python (Pillow 9.4, torchvision 0.14):

    /usr/bin/python3 scripts/make_image_goldens.py

Outputs (deterministic: same bytes on every run with the same library versions):
  src/test/resources/images/*                     small test images (photo crops from skimage, generated cases)
  src/test/resources/golden/image/manifest.json   what each golden file is
  src/test/resources/golden/image/<image>/...     gzip'd raw little-endian arrays:
      decoded.u8.gz          Image.open -> ImageOps.exif_transpose -> convert('RGB'), (H, W, 3) uint8
      <config>.resized.u8.gz the PIL image right after the Resize step, (H', W', C) uint8
      <config>.tensor.f32.gz the final normalized tensor, (C, H, W) float32

The eval transform is timm 0.4.5's transforms_factory.transforms_imagenet_eval (timm itself is not installable
here, so its 15 lines of size logic are restated in eval_transform below) built on torchvision 0.14's transforms.
"""
import gzip
import io
import json
import math
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps
import torch
import torchvision
from torchvision import transforms

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(ROOT, "src/test/resources/images")
GOLDEN = os.path.join(ROOT, "src/test/resources/golden/image")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
INCEPTION_MEAN, INCEPTION_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)

# name -> DataConfig fields (in_chans, height, width, crop_pct, interpolation, crop_mode, mean, std)
CONFIGS = {
    "vit_bicubic224": (3, 224, 224, 0.9, "bicubic", "center", INCEPTION_MEAN, INCEPTION_STD),
    "deit_bilinear64": (3, 64, 64, 0.875, "bilinear", "center", IMAGENET_MEAN, IMAGENET_STD),
    "rect_bicubic64x96": (3, 64, 96, 0.9, "bicubic", "center", IMAGENET_MEAN, IMAGENET_STD),
    "squash_bicubic60x84": (3, 60, 84, 1.0, "bicubic", "squash", INCEPTION_MEAN, INCEPTION_STD),
    "squash_nearest50x70": (3, 50, 70, 1.0, "nearest", "squash", IMAGENET_MEAN, IMAGENET_STD),
    "gray28": (1, 28, 28, 1.0, "bilinear", "center", (0.2860,), (0.3530,)),
}
# The 224 config makes 600 kB tensors: run it on a few photos only, to keep the fixtures small.
BIG_CONFIG_IMAGES = {"chelsea_200x150.jpg", "astronaut_257x199.png", "coffee_150x260_prog.jpg"}
# Normalized tensors are one formula applied to the cropped uint8 image: keep them for these images (and for
# the tiny gray28 config everywhere); every other (image, config) pair keeps the resized uint8 image only.
TENSOR_IMAGES = {"chelsea_200x150.jpg", "tiny_20x15.png"}
# Photos (and the tiny image, which is upscaled) run every config; the other images test decoding, so two
# configs are enough for them.
ALL_CONFIG_IMAGES = {"tiny_20x15.png"}
FORMAT_IMAGE_CONFIGS = {"deit_bilinear64", "gray28"}

PIL_INTERP = {"nearest": transforms.InterpolationMode.NEAREST, "bilinear": transforms.InterpolationMode.BILINEAR,
              "bicubic": transforms.InterpolationMode.BICUBIC}


def eval_transform(cfg):
    """timm 0.4.5 transforms_imagenet_eval (plus the squash mode of Hugging Face's ViTImageProcessor).
    Returns (resize, rest): the Resize step alone, so that its uint8 output can be saved, and what follows it."""
    in_chans, h, w, crop_pct, interp, mode, mean, std = cfg
    interp = PIL_INTERP[interp]
    if mode == "squash":
        resize = transforms.Resize((h, w), interpolation=interp)
        rest = []
    else:
        if h == w:  # timm: "fall-back to older behaviour so Resize scales to shortest edge if target is square"
            scale_size = int(math.floor(h / crop_pct))
        else:
            scale_size = tuple([int(x / crop_pct) for x in (h, w)])
        resize = transforms.Resize(scale_size, interpolation=interp)
        rest = [transforms.CenterCrop((h, w))]
    rest += [transforms.ToTensor(), transforms.Normalize(mean=torch.tensor(mean), std=torch.tensor(std))]
    return resize, transforms.Compose(rest)


def load(path):
    """The reader contract: content-sniffed open, EXIF orientation applied, Pillow's convert('RGB')."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        return im.convert("RGB")


# ---------------------------------------------------------------- test images

def crop(name, box):
    return Image.open(os.path.join(SKIMAGE, name)).convert("RGB").crop(box)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_raw_png(path, width, height, bit_depth, color_type, rows):
    """A minimal PNG writer for what Pillow cannot save (16-bit RGB). rows: list of bytes, filter type 0."""
    raw = b"".join(b"\x00" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9)) \
        + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def exif_with_orientation(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def make_images():
    os.makedirs(IMAGES, exist_ok=True)
    out = {}

    def save(name, im, **kw):
        path = os.path.join(IMAGES, name)
        im.save(path, **kw)
        out[name] = path

    chelsea = crop("chelsea.png", (100, 60, 300, 210))        # 200 x 150
    coffee = crop("coffee.png", (200, 80, 350, 340))          # 150 x 260
    astronaut = crop("astronaut.png", (120, 20, 377, 219))    # 257 x 199, odd sizes

    save("chelsea_200x150.jpg", chelsea, quality=90)
    save("chelsea_200x150_prog.jpg", chelsea, quality=90, progressive=True)
    save("chelsea_200x150.png", chelsea)
    save("coffee_150x260.jpg", coffee, quality=85)
    save("coffee_150x260_prog.jpg", coffee, quality=85, progressive=True)
    save("coffee_150x260_444.jpg", coffee, quality=95, subsampling=0)
    save("astronaut_257x199.png", astronaut)
    save("astronaut_257x199.jpg", astronaut, quality=80)

    small = astronaut.resize((97, 75), Image.BICUBIC)
    save("gray_97x75.png", small.convert("L"))
    save("gray_97x75.jpg", small.convert("L"), quality=90)
    save("bilevel_97x75.png", small.convert("L").point(lambda v: 255 if v > 110 else 0).convert("1"))
    pal = small.quantize(colors=48, method=Image.MEDIANCUT, dither=Image.NONE)
    save("palette_97x75.png", pal, transparency=3)
    rgba = small.copy()
    rgba.putalpha(Image.linear_gradient("L").resize(small.size))
    save("rgba_97x75.png", rgba)
    la = small.convert("L")
    la.putalpha(Image.linear_gradient("L").rotate(90).resize(small.size))
    save("la_97x75.png", la)

    # 16-bit: Pillow reads RGB;16B as the high byte of each sample, and 16-bit grey as mode I, whose
    # convert('RGB') clips at 255 (so most of this gradient saturates: that is what Pillow 9.4 does).
    rng = np.random.RandomState(1234)
    a16 = (np.asarray(small, dtype=np.uint16) * 257 + rng.randint(0, 257, (75, 97, 3))).astype(">u2")
    write_raw_png(os.path.join(IMAGES, "rgb16_97x75.png"), 97, 75, 16, 2, [r.tobytes() for r in a16])
    out["rgb16_97x75.png"] = os.path.join(IMAGES, "rgb16_97x75.png")
    g16 = (np.arange(97)[None, :] * 3 + np.arange(75)[:, None] * 2).astype(">u2")
    write_raw_png(os.path.join(IMAGES, "gray16_97x75.png"), 97, 75, 16, 0, [r.tobytes() for r in g16])
    out["gray16_97x75.png"] = os.path.join(IMAGES, "gray16_97x75.png")

    # CMYK with a real K channel; Pillow writes Adobe-inverted CMYK ("CMYK;I") with an Adobe APP14 marker.
    rgbarr = np.asarray(small, dtype=np.int32)
    k = 255 - rgbarr.max(axis=2)
    cmy = 255 - rgbarr - k[..., None]
    cmyk = np.dstack([cmy, k]).clip(0, 255).astype(np.uint8)
    save("cmyk_97x75.jpg", Image.fromarray(cmyk, "CMYK"), quality=92)

    save("exif6_150x100.jpg", chelsea.resize((150, 100), Image.BILINEAR), quality=90,
         exif=exif_with_orientation(6))
    save("exif3_150x100.jpg", chelsea.resize((150, 100), Image.BILINEAR), quality=90,
         exif=exif_with_orientation(3))

    frames = [small.rotate(a).quantize(colors=64, method=Image.MEDIANCUT, dither=Image.NONE) for a in (0, 20, 40)]
    save("anim_97x75.gif", frames[0], save_all=True, append_images=frames[1:], duration=100, loop=0)
    save("rgb_97x75.bmp", small)
    save("palette_97x75.bmp", pal)
    save("tiny_20x15.png", small.resize((20, 15), Image.BILINEAR))
    return out


# ---------------------------------------------------------------- goldens

def write_gz(path, array):
    buf = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    with open(path, "wb") as f:
        # mtime=0 and no file name keep the bytes identical between runs
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
            g.write(buf)


def main():
    torch.set_num_threads(1)
    images = make_images()
    os.makedirs(GOLDEN, exist_ok=True)
    manifest = {"pillow": Image.__version__, "torchvision": torchvision.__version__,
                "configs": {}, "images": {}}
    for name, cfg in CONFIGS.items():
        in_chans, h, w, crop_pct, interp, mode, mean, std = cfg
        manifest["configs"][name] = {"inChans": in_chans, "height": h, "width": w, "cropPct": crop_pct,
                                     "interpolation": interp, "cropMode": mode, "mean": mean, "std": std}
    for name in sorted(images):
        rgb = load(images[name])
        d = os.path.join(GOLDEN, name)
        os.makedirs(d, exist_ok=True)
        write_gz(os.path.join(d, "decoded.u8.gz"), np.asarray(rgb, dtype=np.uint8))
        entry = {"width": rgb.width, "height": rgb.height, "configs": {}}
        for cname, cfg in CONFIGS.items():
            photo = name.split("_")[0] in ("chelsea", "coffee", "astronaut") or name in ALL_CONFIG_IMAGES
            if not photo and cname not in FORMAT_IMAGE_CONFIGS:
                continue
            if cname == "vit_bicubic224" and name not in BIG_CONFIG_IMAGES:
                continue
            src = rgb if cfg[0] == 3 else rgb.convert("L")
            resize, rest = eval_transform(cfg)
            resized = resize(src)
            tensor = rest(resized)
            arr = np.asarray(resized, dtype=np.uint8)
            write_gz(os.path.join(d, cname + ".resized.u8.gz"), arr)
            conf = {"resizedWidth": resized.width, "resizedHeight": resized.height,
                    "tensorShape": list(tensor.shape), "tensor": name in TENSOR_IMAGES or cname == "gray28"}
            if conf["tensor"]:
                write_gz(os.path.join(d, cname + ".tensor.f32.gz"), tensor.numpy().astype(np.float32))
            entry["configs"][cname] = conf
        manifest["images"][name] = entry
    with open(os.path.join(GOLDEN, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
