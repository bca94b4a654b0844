"""Plotting helpers for pages and labs (matplotlib; part of the ``docs`` extra)."""

from __future__ import annotations

import io
from typing import Callable

import numpy as np

__all__ = ["to_svg", "scatter_classes", "decision_regions"]


def to_svg(fig) -> str:
    """Render a matplotlib figure to inline SVG, wrapped in ``<div class="n2t-figure">``; close it.

    Use it in ``markdown-exec`` blocks (``html="1"``) to put a build-time figure on a page.
    """
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    return '<div class="n2t-figure">' + svg[svg.index("<svg"):] + "</div>"


def scatter_classes(ax, x: np.ndarray, y: np.ndarray, labels=("triangle", "square")) -> None:
    """Plot points of class +1 as triangles and class −1 as squares.

    Args:
        ax: a matplotlib Axes.
        x: points, shape ``(N, 2)``.
        y: labels in {+1, −1}, shape ``(N,)``.
        labels: legend names of the +1 and −1 classes.
    """
    positive, negative = y > 0, y <= 0
    ax.scatter(*x[positive].T, marker="^", c="tab:orange", edgecolors="k", label=labels[0], zorder=3)
    ax.scatter(*x[negative].T, marker="s", c="tab:blue", edgecolors="k", label=labels[1], zorder=3)
    ax.set_aspect("equal")


def decision_regions(
    ax, predict: Callable[[np.ndarray], np.ndarray], limits=(-1.2, 1.2, -1.2, 1.2), steps: int = 200
) -> None:
    """Shade the plane by the sign of ``predict`` and draw the boundary where it changes.

    Args:
        ax: a matplotlib Axes.
        predict: maps points ``(M, 2)`` to scores or labels ``(M,)``; > 0 means class +1.
        limits: ``(xmin, xmax, ymin, ymax)``.
        steps: grid resolution per axis.
    """
    xs = np.linspace(limits[0], limits[1], steps)
    ys = np.linspace(limits[2], limits[3], steps)
    grid_x, grid_y = np.meshgrid(xs, ys)
    scores = np.asarray(predict(np.column_stack([grid_x.ravel(), grid_y.ravel()]))).reshape(grid_x.shape)
    ax.contourf(grid_x, grid_y, scores > 0, levels=[-0.5, 0.5, 1.5], colors=["#cfe3f7", "#fde2c8"], alpha=0.8)
    if scores.min() <= 0 < scores.max():
        ax.contour(grid_x, grid_y, scores.astype(float), levels=[0.0], colors="k", linewidths=1.5)
