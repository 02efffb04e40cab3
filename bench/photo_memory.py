"""Benchmark: peak memory of checking and processing the largest photos the limits allow.

    python bench/photo_memory.py             # every case
    python bench/photo_memory.py --only png  # cases whose name contains "png"

Makes worst-case uploads once (bench/results/photos/: JPEG, PNG and WebP at the pixel limit,
in the modes that cost the most memory to decode, each within the byte limit), then measures
each in a fresh child process that has loaded Django and the task modules the way a worker
does. Two numbers per file: the web process checking the upload (`validate_photo`) and the
worker making the web-size version and the thumbnail (`render_versions`). Peak RSS is the
kernel's high-water mark (VmHWM); "baseline" is the RSS before the file is touched.
Numbers, not tests: nothing here asserts a size.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "bench" / "results" / "photos"
# 40 megapixels, the default PHOTO_MAX_PIXELS: the square from the report (6324x6324) and a
# phone camera's 3:2 frame.
SQUARE = (6324, 6324)
FRAME = (7744, 5163)
# The largest files of the kinds that cost more per pixel and so have a lower limit.
WEBP_LIMIT = (3162, 3162)
PROGRESSIVE_444_LIMIT = (6320, 4210)


def _gradient(mode: str, size: tuple[int, int]):
    from PIL import Image

    width, height = size
    ramp = Image.linear_gradient("L")
    x = ramp.resize((width, height))
    y = ramp.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    bands = {"L": [x], "LA": [x, y], "RGB": [x, y, x], "RGBA": [x, y, x, y]}
    return Image.merge(mode, bands[mode])


def _save(name: str, mode: str, size: tuple[int, int], **params) -> None:
    image = _gradient(mode, size)
    fmt = params.pop("format")
    if "orientation" in params:
        exif = image.getexif()
        exif[0x0112] = params.pop("orientation")
        params["exif"] = exif
    image.save(FILES / name, fmt, **params)


def _png_16bit(name: str, color_type: int, channels: int, size: tuple[int, int]) -> None:
    """Pillow cannot write 16-bit colour PNGs; write one by hand (flat, so it compresses)."""
    width, height = size

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x80\x00" * channels * width
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    (FILES / name).write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _palette_png(name: str, size: tuple[int, int] = SQUARE) -> None:
    image = _gradient("L", size).convert("P")
    image.save(FILES / name, "PNG", transparency=0)


CASES: dict[str, Callable[[str], None]] = {
    "jpeg-baseline-3x2.jpg": lambda n: _save(n, "RGB", FRAME, format="JPEG", quality=90),
    "jpeg-progressive-3x2.jpg": lambda n: _save(
        n, "RGB", FRAME, format="JPEG", quality=90, progressive=True
    ),
    "jpeg-444-rotated-square.jpg": lambda n: _save(
        n, "RGB", SQUARE, format="JPEG", quality=90, subsampling=0, orientation=6
    ),
    "jpeg-cmyk-square.jpg": lambda n: (
        _gradient("RGB", SQUARE).convert("CMYK").save(FILES / n, "JPEG", quality=90)
    ),
    "png-rgb-square.png": lambda n: _save(n, "RGB", SQUARE, format="PNG"),
    "png-rgba-square.png": lambda n: _save(n, "RGBA", SQUARE, format="PNG"),
    "png-la-square.png": lambda n: _save(n, "LA", SQUARE, format="PNG"),
    "png-palette-transparent-square.png": _palette_png,
    "png-rgba16-square.png": lambda n: _png_16bit(n, 6, 4, SQUARE),
    "png-gray16-square.png": lambda n: _png_16bit(n, 0, 1, SQUARE),
    "jpeg-progressive-444-limit.jpg": lambda n: _save(
        n, "RGB", PROGRESSIVE_444_LIMIT, format="JPEG", quality=90, subsampling=0, progressive=True
    ),
    "webp-rgb-square.webp": lambda n: _save(n, "RGB", SQUARE, format="WEBP", quality=80),
    "webp-rgba-limit.webp": lambda n: _save(n, "RGBA", WEBP_LIMIT, format="WEBP", lossless=True),
    "webp-rgba-lossless-square.webp": lambda n: _save(
        n, "RGBA", SQUARE, format="WEBP", lossless=True
    ),
}


def make_files(names: list[str]) -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not (FILES / name).exists():
            print(f"making {name}", flush=True)
            CASES[name](name)


def _rss(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(job: str, name: str) -> None:
    """Load Django and the worker's modules, then check or process one file."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic311.settings")
    import django

    django.setup()
    import reports.tasks  # noqa: F401  (what a worker has loaded)

    path = FILES / name
    from django.core.exceptions import ValidationError

    baseline = _rss("VmRSS")
    outcome = "ok"
    try:
        run(job, path, name)
    except (ValidationError, ValueError) as exc:
        outcome = "refused: " + " ".join(getattr(exc, "messages", [str(exc)]))[:90]
    print(f"{baseline:.0f} {_rss('VmHWM'):.0f} {outcome}")


def run(job: str, path: Path, name: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports.photos import render_versions, validate_photo

    if job == "validate":
        # The web process receives the upload as a temporary file on disk (over 2.5 MB).
        with path.open("rb") as handle:
            upload = SimpleUploadedFile(name, b"")
            upload.file, upload.size = handle, path.stat().st_size
            validate_photo(upload)
    else:
        with path.open("rb") as handle:
            render_versions(handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(*options.child)
        return
    names = [name for name in CASES if options.only in name]
    make_files(names)
    print(
        f"{'file':36} {'MB':>5} {'pixels':>11}  {'job':8} {'baseline':>8} {'peak':>6} {'added':>6}"
    )
    worst = 0.0
    for name in names:
        from PIL import Image

        with Image.open(FILES / name) as image:
            pixels = f"{image.width}x{image.height}"
        size_mb = (FILES / name).stat().st_size / 1024 / 1024
        for job in ("validate", "process"):
            result = subprocess.run(
                [sys.executable, __file__, "--child", job, name],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if result.returncode:
                print(f"{name:36} {size_mb:5.1f} {pixels:>11}  {job:8} failed:")
                print(result.stderr.strip().splitlines()[-1])
                continue
            baseline, peak, outcome = result.stdout.split(maxsplit=2)
            baseline, peak = float(baseline), float(peak)
            worst = max(worst, peak)
            print(
                f"{name:36} {size_mb:5.1f} {pixels:>11}  {job:8} {baseline:8.0f} {peak:6.0f} "
                f"{peak - baseline:6.0f}  {outcome.strip()}",
                flush=True,
            )
    print(f"\nhighest peak: {worst:.0f} MB (RSS, MiB)")


if __name__ == "__main__":
    main()
