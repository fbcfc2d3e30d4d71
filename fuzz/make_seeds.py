#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/): a few small,
valid files of each kind nib reads, from which the fuzzer mutates. Python's
standard library only; the JPEG seeds come from make_image_seeds.c.
Run from the repository root: python3 fuzz/make_seeds.py"""
import gzip, json, os, shutil, struct, zipfile, zlib

ROOT = "fuzz/corpus"


def put(target, name, data):
    os.makedirs(f"{ROOT}/{target}", exist_ok=True)
    with open(f"{ROOT}/{target}/{name}", "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# IDX: 3 images of 4x4 and their labels, plain and gzipped.
images = struct.pack(">IIII", 0x803, 3, 4, 4) + bytes((i * 17) % 256 for i in range(48))
labels = struct.pack(">II", 0x801, 3) + bytes([7, 2, 1])
put("idx", "images", images)
put("idx", "labels", labels)
put("idx", "images.gz", gzip.compress(images, mtime=0))
put("idx", "labels.gz", gzip.compress(labels, mtime=0))

# CSV digits: 2x2 images, labelled and not, one with Windows line endings.
put("csv_digits", "train.csv", "label,pixel0,pixel1,pixel2,pixel3\n3,0,255,17,9\n8,1,2,3,4\n")
put("csv_digits", "test.csv", "pixel0,pixel1,pixel2,pixel3\r\n0,255,17,9\r\n\r\n")


# Images: PNG (gray, RGB, RGBA, 16-bit) and BMP; JPEG from make_image_seeds.c.
def png(width, height, color_type, depth, pixels):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = width * channels * depth // 8
    raw = b"".join(b"\0" + pixels[y * row:(y + 1) * row] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def digit(width, height, channels):  # a bright bar on black: something prepare_image finds
    return bytes(255 if width // 3 <= x < 2 * width // 3 and 1 <= y < height - 1 else 0
                 for y in range(height) for x in range(width) for _ in range(channels))


put("image", "gray.png", png(8, 8, 0, 8, digit(8, 8, 1)))
put("image", "rgb.png", png(6, 5, 2, 8, digit(6, 5, 3)))
put("image", "rgba.png", png(4, 4, 6, 8, digit(4, 4, 4)))
put("image", "gray16.png", png(4, 4, 0, 16, digit(4, 4, 2)))
bmp_rows = b"".join(digit(4, 4, 3)[y * 12:(y + 1) * 12] for y in reversed(range(4)))
put("image", "rgb.bmp", b"BM" + struct.pack("<IHHI", 54 + len(bmp_rows), 0, 0, 54)
    + struct.pack("<IiiHHIIiiII", 40, 4, 4, 1, 24, 0, len(bmp_rows), 2835, 2835, 0, 0) + bmp_rows)

# safetensors: F32 + I32 + F16, with metadata; and nib's own test fixture.
def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


put("safetensors", "small.safetensors", safetensors({
    "w": ("F32", [2, 3], struct.pack("<6f", 1, -2, 3.5, 0, 1e-3, 7)),
    "n": ("I32", [2], struct.pack("<2i", 5, -1)),
    "h": ("F16", [1], b"\x00\x3c")}, {"format": "pt"}))
put("safetensors", "empty.safetensors", safetensors({}))
shutil.copy("tests/fixtures/interop/small_model_f16.safetensors", f"{ROOT}/safetensors/small_model_f16.safetensors")

# The retrieval index: 3 images of 2 features, labelled, as ImageIndex::save writes it.
put("retrieval_index", "index.safetensors", safetensors({
    "features": ("F32", [3, 2], struct.pack("<6f", 1, 0, 0, 1, 0.5, 0.5)),
    "labels": ("I32", [3], struct.pack("<3i", 0, 1, 1))}, {
    "format": "nib-index-1", "root": "photos", "paths": '["a/1.png","b/2.png","b/3.png"]',
    "class_names": '["a","b"]', "file_sizes": "[10,20,30]", "file_times": "[1,2,3]",
    "extractor.model": "basic-cnn", "extractor.layer": "fc1"}))

# .pth: nib's fixtures, and one rewritten with deflate (torch stores, zip tools may compress).
os.makedirs(f"{ROOT}/torch_checkpoint", exist_ok=True)
for name in ("small.pth", "wrapped.pth"):
    shutil.copy(f"tests/fixtures/pth/{name}", f"{ROOT}/torch_checkpoint/{name}")
with zipfile.ZipFile("tests/fixtures/pth/small.pth") as src, \
        zipfile.ZipFile(f"{ROOT}/torch_checkpoint/deflated.pth", "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(info.filename, src.read(info))

# Pickles: the data.pkl of each .pth fixture.
for name in ("small", "wrapped", "module"):
    with zipfile.ZipFile(f"tests/fixtures/pth/{name}.pth") as z:
        pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
        put("pickle", f"{name}.pkl", z.read(pkl))

# JSON: the kinds of documents nib reads.
put("json", "object.json", '{"a": [1, -2.5e3, true, false, null], "b": {"c": "d\\u00e9\\n\\ud83d\\ude00"}}')
put("json", "numbers.json", "[0, -0, 1e308, 5e-324, 123456789012345678, 0.1]")
put("json", "empty.json", "{}")

# A run's config.json, as nib train writes it.
config = {"model": "basic-cnn", "in_channels": 1, "image_size": 28, "classes": 10, "options": {"width": "32"},
          "class_names": [str(i) for i in range(10)], "data": "mnist", "preprocess": "none",
          "input": {"prepare": "mnist", "polarity": "light-on-dark", "frame": 28, "box": 20},
          "command": "nib train --data mnist", "settings": {"epochs": "2", "lr": "0.01"}}
put("run_config", "mnist.json", json.dumps(config, indent=2) + "\n")
del config["input"]
config["data"] = "photos/"
put("run_config", "legacy.json", json.dumps(config) + "\n")
