"""Reference preprocessing for fer-stream's fidelity tests, run with /usr/bin/python3 (PIL + numpy).

Mimics what Hugging Face's seed model saw: transformers' load_image (ImageOps.exif_transpose,
convert('RGB')) then ViTImageProcessor (PIL resize with the configured resample filter, rescale,
normalise in float32, HWC -> CHW), plus fer-stream's extensions pad_to_square and channel_order.

  pil_reference.py generate DIR      writes the generated test images into DIR, prints their names
  pil_reference.py reference         reads {"config": {...}, "items": [{"src", "dst", "grey16_high_byte"}]}
                                     on stdin, writes each tensor as raw little-endian float32 to dst
"""
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageCms, ImageOps


def load_rgb(path, grey16_high_byte):
    image = ImageOps.exif_transpose(Image.open(path))
    if grey16_high_byte and image.mode in ("I", "I;16", "I;16B"):
        # fer-stream's deliberate deviation: PIL's convert('RGB') clips 16-bit grey at 255.
        image = Image.fromarray((np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8), "L")
    return image.convert("RGB")


def pad_to_square(image):
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    before = (side - min(width, height)) // 2
    canvas = Image.new("RGB", (side, side), (0, 0, 0))
    canvas.paste(image, (before, 0) if width < height else (0, before))
    return canvas


def preprocess(path, config, grey16_high_byte):
    image = load_rgb(path, grey16_high_byte)
    if config.get("pad_to_square"):
        image = pad_to_square(image)
    if config["do_resize"]:
        size = (config["size"]["width"], config["size"]["height"])
        if image.size != size:
            image = image.resize(size, resample=config["resample"])
    x = np.asarray(image)
    if config["do_rescale"]:
        x = (x.astype(np.float64) * config["rescale_factor"]).astype(np.float32)
    else:
        x = x.astype(np.float32)
    if config["do_normalize"]:
        mean = np.array(config["image_mean"], dtype=np.float32)
        std = np.array(config["image_std"], dtype=np.float32)
        x = (x - mean) / std
    if config.get("channel_order") == "bgr":
        x = x[:, :, ::-1]
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype="<f4")


def write_png(path, width, height, bit_depth, colour_type, pixels):
    """PNG writer for what PIL cannot save (16-bit RGB); pixels are big-endian sample bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    stride = len(pixels) // height
    rows = b"".join(b"\x00" + pixels[y * stride:(y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def photo_like(width, height, seed):
    """Smooth colour fields plus mild noise: resampling differences show, JPEG stays realistic."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 100 * np.sin(xx / width * 6.0 + yy / height * 2.0)
    g = 128 + 100 * np.cos(yy / height * 5.0 - xx / width)
    b = 255 * (xx + yy) / (width + height)
    rgb = np.stack([r, g, b], axis=2) + rng.normal(0, 12, (height, width, 3))
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def exif_bytes(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def generate(directory):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(7)
    made = []

    def save(name, image, **kwargs):
        image.save(os.path.join(directory, name), **kwargs)
        made.append(name)

    yy, xx = np.mgrid[0:480, 0:640]
    gradient = np.stack([xx * 255 // 639, yy * 255 // 479, (xx + yy) * 255 // 1118], axis=2).astype(np.uint8)
    save("gradient_640x480.png", Image.fromarray(gradient, "RGB"))
    save("noise_333x217.png", Image.fromarray(rng.integers(0, 256, (217, 333, 3), dtype=np.uint8), "RGB"))
    save("noise_q75_420.jpg", Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8), "RGB"), quality=75, subsampling=2)
    save("photo_like_1000x750.jpg", Image.fromarray(photo_like(1000, 750, 1), "RGB"), quality=90)
    save("odd_7x300.png", Image.fromarray(photo_like(7, 300, 2), "RGB"))
    save("odd_225x224.png", Image.fromarray(photo_like(225, 224, 3), "RGB"))
    save("exact_224x224.png", Image.fromarray(photo_like(224, 224, 4), "RGB"))
    save("upscale_100x61.png", Image.fromarray(photo_like(100, 61, 5), "RGB"))
    save("single_pixel_1x1.png", Image.fromarray(np.array([[[200, 30, 90]]], dtype=np.uint8), "RGB"))
    rgba = np.concatenate([photo_like(320, 240, 6), rng.integers(0, 256, (240, 320, 1), dtype=np.uint8)], axis=2)
    save("alpha_rgba_320x240.png", Image.fromarray(rgba, "RGBA"))
    transparent = rgba.copy()
    transparent[:, :160, 3] = 0
    save("alpha_half_transparent.webp", Image.fromarray(transparent, "RGBA"), lossless=True)
    grey = photo_like(300, 400, 8)[:, :, 1]
    save("grey_alpha_LA.png", Image.fromarray(np.stack([grey, 255 - grey], axis=2), "LA"))
    save("grey_L.png", Image.fromarray(grey, "L"))
    save("grey_L.jpg", Image.fromarray(grey, "L"), quality=90)
    palette = Image.fromarray(photo_like(250, 180, 9), "RGB").quantize(64)
    save("palette_transparency.png", palette, transparency=5)
    photo = Image.fromarray(photo_like(400, 300, 10), "RGB")
    for orientation in (2, 3, 5, 6, 8):
        save(f"exif_orientation_{orientation}.jpg", photo, quality=92, exif=exif_bytes(orientation))
    save("exif_orientation_6.png", photo, exif=exif_bytes(6))
    rgb16 = (photo_like(320, 200, 11).astype(np.uint16) * 257 + rng.integers(0, 257, (200, 320, 3))).astype(">u2")
    write_png(os.path.join(directory, "rgb16_320x200.png"), 320, 200, 16, 2, rgb16.tobytes())
    made.append("rgb16_320x200.png")
    grey16 = (photo_like(320, 200, 12)[:, :, 0].astype(np.uint16) * 257).astype(">u2")
    write_png(os.path.join(directory, "grey16_320x200.png"), 320, 200, 16, 0, grey16.tobytes())
    made.append("grey16_320x200.png")
    save("cmyk_400x300.jpg", Image.fromarray(photo_like(400, 300, 13), "RGB").convert("CMYK"), quality=92)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    save("icc_srgb_400x300.jpg", Image.fromarray(photo_like(400, 300, 14), "RGB"), quality=92, icc_profile=srgb)
    print("\n".join(made))


def reference():
    request = json.load(sys.stdin)
    for item in request["items"]:
        tensor = preprocess(item["src"], request["config"], item.get("grey16_high_byte", False))
        tensor.tofile(item["dst"])


if __name__ == "__main__":
    if sys.argv[1:2] == ["generate"]:
        generate(sys.argv[2])
    elif sys.argv[1:2] == ["reference"]:
        reference()
    else:
        sys.exit(__doc__)
