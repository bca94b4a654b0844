"""Draw the site's raster images: the link-preview card and the touch icon (run by hand, output committed).

The vector logo and favicon (``docs/assets/logo.svg``, ``docs/assets/favicon.svg``) are drawn by hand;
social networks and iOS want PNGs, so this script redraws the same glyph (three inputs feeding one
neuron) with Pillow, on the 64-unit grid of the SVGs:

    python tools/make_social_card.py      # writes docs/assets/social-card.png and apple-touch-icon.png

The titles need a CJK font (Debian: ``fonts-noto-cjk``); the output is a palette PNG of a few KiB.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "docs" / "assets"
INDIGO = (63, 81, 181)
WHITE = (255, 255, 255)
CARD_SIZE = (1200, 630)
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
# The glyph on the SVGs' 64-unit grid: input centres, output centre, radii, stroke width.
INPUTS = ((12, 14), (12, 32), (12, 50))
OUTPUT = (45, 32)
INPUT_RADIUS, OUTPUT_RADIUS, STROKE = 7, 10, 4


def draw_glyph(draw: ImageDraw.ImageDraw, left: float, top: float, scale: float) -> None:
    """Draw the logo glyph in white with its 64-unit box at (left, top), ``scale`` pixels per unit."""

    def point(x: float, y: float) -> tuple[float, float]:
        return left + x * scale, top + y * scale

    width = round(STROKE * scale)
    for x, y in INPUTS:
        draw.line([point(x + 4, y), point(*OUTPUT)], fill=WHITE, width=width)
    draw.line([point(OUTPUT[0] + 8, 32), point(61, 32)], fill=WHITE, width=width)
    for (x, y), radius in [*((p, INPUT_RADIUS) for p in INPUTS), (OUTPUT, OUTPUT_RADIUS)]:
        cx, cy = point(x, y)
        r = radius * scale
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=WHITE)


def font(size: int) -> ImageFont.FreeTypeFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    sys.exit("no CJK font found: install fonts-noto-cjk")


def social_card() -> Image.Image:
    """1200x630 link-preview card: the glyph and the title in both languages."""
    image = Image.new("RGB", CARD_SIZE, INDIGO)
    draw = ImageDraw.Draw(image)
    draw_glyph(draw, left=80, top=185, scale=4)
    draw.text((400, 195), "从神经元到 Transformer", font=font(60), fill=WHITE)
    draw.text((400, 290), "From Neurons to Transformers", font=font(48), fill=WHITE)
    draw.text((400, 385), "NumPy · PyTorch · n2t", font=font(34), fill=(197, 202, 233))
    return image


def touch_icon() -> Image.Image:
    """180x180 icon for home screens (iOS ignores SVG favicons)."""
    image = Image.new("RGB", (180, 180), INDIGO)
    draw_glyph(ImageDraw.Draw(image), left=18, top=18, scale=144 / 64)
    return image


def save_small(image: Image.Image, path: Path) -> None:
    image.quantize(colors=32, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {image.size[0]}x{image.size[1]}, {path.stat().st_size} bytes")


if __name__ == "__main__":
    save_small(social_card(), ASSETS / "social-card.png")
    save_small(touch_icon(), ASSETS / "apple-touch-icon.png")
