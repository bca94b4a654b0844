"""Shrink the inline SVG figures matplotlib writes into pages, without changing how they look.

matplotlib's SVG carries an RDF metadata block (with the build time, so every build differs),
coordinates with six decimals (a millionth of a point) and filled contours traced through every grid
point, even along a straight edge. On a page of plots that is most of the HTML. For each ``<svg>``
this module

* drops the ``<metadata>`` block;
* rounds coordinates (``d``, ``x``, ``y``, ``points``, ``width``, ``height``, ``viewBox``) to 2 decimals,
  a hundredth of a point (about 1/50 of a screen pixel at the size figures are shown);
* drops the middle points of straight horizontal and vertical runs of ``L`` commands in a path;
* removes the whitespace between tags and inside path data.
"""

from __future__ import annotations

import re

MATPLOTLIB = '<g id="figure_1">'
SVG = re.compile(r"<svg\b.*?</svg>", re.S)
METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
COORDINATE_ATTRIBUTE = re.compile(r'\b(d|x|y|points|width|height|viewBox)="([^"]*)"')
LONG_DECIMAL = re.compile(r"-?\d+\.\d{3,}")
BETWEEN_TAGS = re.compile(r">\s+<")
PATH_COMMAND = re.compile(r"([MLZmlzCcQqHhVvSsTtAa])\s*([^MLZmlzCcQqHhVvSsTtAa]*)")


def _round(match: re.Match) -> str:
    text = f"{float(match.group()):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _drop_collinear(path_data: str) -> str:
    """Path data with the inner points of straight horizontal/vertical runs of ``L`` removed."""
    commands = [(name, args.split()) for name, args in PATH_COMMAND.findall(path_data)]
    kept: list[tuple[str, list[str]]] = []
    for name, args in commands:
        if name == "L" and len(args) == 2 and len(kept) >= 2:
            (before_name, before), (last_name, last) = kept[-2], kept[-1]
            if last_name == "L" and before_name in "ML" and _between(before, last, args):
                kept[-1] = (name, args)
                continue
        kept.append((name, args))
    return " ".join(" ".join([name, *args]) for name, args in kept)


def _between(first: list[str], middle: list[str], last: list[str]) -> bool:
    """Whether ``middle`` lies on the horizontal or vertical segment from ``first`` to ``last``."""
    if len(first) != 2 or len(middle) != 2:
        return False
    for same, moving in ((0, 1), (1, 0)):
        if first[same] == middle[same] == last[same]:
            a, b, c = (float(point[moving]) for point in (first, middle, last))
            return min(a, c) <= b <= max(a, c)
    return False


def _coordinates(match: re.Match) -> str:
    name, value = match.groups()
    value = LONG_DECIMAL.sub(_round, value)
    if name == "d":
        value = _drop_collinear(value)
    else:
        value = " ".join(value.split())
    return f'{name}="{value}"'


def minify_svg(svg: str) -> str:
    """One ``<svg>…</svg>`` element, smaller and drawn the same."""
    svg = METADATA.sub("", svg)
    svg = COORDINATE_ATTRIBUTE.sub(_coordinates, svg)
    return BETWEEN_TAGS.sub("><", svg)


def minify_svgs(html: str) -> str:
    """``html`` with every inline matplotlib ``<svg>`` minified (everything else is untouched)."""
    return SVG.sub(lambda match: minify_svg(match.group()) if MATPLOTLIB in match.group() else match.group(), html)
