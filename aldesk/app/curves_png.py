"""The learning curves of ``aldesk simulate --plot`` as a PNG, drawn with Pillow: no Qt, no pyqtgraph, no display.

What the Simulate panel shows (``aldesk.ui.plots.curves.draw_simulation``), for a terminal or a CI machine: one
line per strategy (random in grey), the labels needed for 90 % / 95 % of the whole-pool accuracy as a triangle /
a square on the curve with a dotted / dashed vertical line, the whole-pool accuracy as a dashed line, and a legend
that names each strategy with those two numbers. Drawn at twice the size and scaled down, for smooth lines.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from aldesk.app.palette import PALETTE  # the window's plots use the same: a strategy keeps its colour
from aldesk.core.atomic import atomic_file

RANDOM = "#7f7f7f"
INK = "#333333"
GRID = "#e6e6e6"
SCALE = 2  # drawn at SCALE x the size, then scaled down (ImageDraw does not anti-alias lines)


def _nice_step(span: float, ticks: int) -> float:
    """1, 2 or 5 times a power of ten, giving about ``ticks`` ticks over ``span``."""
    raw = max(span, 1e-9) / max(1, ticks)
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def _ticks(lo: float, hi: float, ticks: int) -> list[float]:
    step = _nice_step(hi - lo, ticks)
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    v = first
    while v <= hi + 1e-9:
        out.append(round(v, 10))
        v += step
    return out


def _dashed(
    draw: Any, p0: tuple[float, float], p1: tuple[float, float], fill: str, width: int, dash: int, gap: int
) -> None:
    (x0, y0), (x1, y1) = p0, p1
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return
    dx, dy = (x1 - x0) / length, (y1 - y0) / length
    t = 0.0
    while t < length:
        e = min(t + dash, length)
        draw.line([(x0 + dx * t, y0 + dy * t), (x0 + dx * e, y0 + dy * e)], fill=fill, width=width)
        t = e + gap


def _marker(draw: Any, x: float, y: float, shape: str, fill: str, r: float) -> None:
    if shape == "triangle":
        pts = [(x, y - r * 1.2), (x - r * 1.1, y + r * 0.8), (x + r * 1.1, y + r * 0.8)]
        draw.polygon(pts, fill=fill, outline="white", width=SCALE)
    else:
        draw.rectangle(
            [x - r * 0.9, y - r * 0.9, x + r * 0.9, y + r * 0.9], fill=fill, outline="white", width=SCALE
        )


def curves_png(result: dict, path: str | Path, width: int = 1200, height: int = 800) -> Path:
    """Render a ``SimulationResult.to_dict()`` to ``path`` (PNG). The file is written under a temporary name in
    its folder and renamed over ``path``: a failure (the disk full) never leaves a truncated image there."""
    from PIL import Image, ImageDraw, ImageFont

    s = SCALE
    W, H = width * s, height * s
    img = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=15 * s)
    small = ImageFont.load_default(size=13 * s)
    title_font = ImageFont.load_default(size=17 * s)

    strategies: dict = result.get("strategies") or {}
    full = float(result.get("full_accuracy") or 0.0)
    budget = int(result.get("budget") or 1)
    curves = {n: [float(a) for a in st.get("accuracy") or []] for n, st in strategies.items()}
    values = [a for acc in curves.values() for a in acc] + [full]
    top = min(1.0, max(values) + 0.04)
    bottom = max(0.0, min(values) - 0.03)
    if top - bottom < 0.05:
        bottom = max(0.0, top - 0.05)

    left, right, top_px, bottom_px = 95 * s, W - 30 * s, 60 * s, H - 70 * s

    def px(x: float, y: float) -> tuple[float, float]:
        return (
            left + (x / (budget + 1)) * (right - left),
            bottom_px - (y - bottom) / (top - bottom) * (bottom_px - top_px),
        )

    # grid, ticks, axes
    for v in _ticks(bottom, top, 8):
        _, y = px(0, v)
        draw.line([(left, y), (right, y)], fill=GRID, width=s)
        draw.line([(left - 6 * s, y), (left, y)], fill=INK, width=s)
        text = f"{v:.2f}" if _nice_step(top - bottom, 8) < 0.1 else f"{v:.1f}"
        draw.text((left - 10 * s, y), text, fill=INK, font=small, anchor="rm")
    for v in _ticks(0, budget + 1, 10):
        x, _ = px(v, bottom)
        draw.line([(x, top_px), (x, bottom_px)], fill=GRID, width=s)
        draw.line([(x, bottom_px), (x, bottom_px + 6 * s)], fill=INK, width=s)
        draw.text((x, bottom_px + 10 * s), f"{v:g}", fill=INK, font=small, anchor="mt")
    draw.rectangle([left, top_px, right, bottom_px], outline="#666666", width=s)
    draw.text(((left + right) / 2, H - 18 * s), "labels", fill=INK, font=font, anchor="mb")
    label = "accuracy on held-out items"
    box = draw.textbbox((0, 0), label, font=font)
    tag = Image.new("RGBA", (int(box[2] - box[0]) + 4 * s, int(box[3] - box[1]) + 8 * s), (255, 255, 255, 0))
    ImageDraw.Draw(tag).text((2 * s, 0), label, fill=INK, font=font)
    tag = tag.rotate(90, expand=True)
    img.paste(tag, (14 * s, int((top_px + bottom_px) / 2 - tag.height / 2)), tag)
    name = Path(str(result.get("dataset") or "")).name
    draw.text(
        ((left + right) / 2, 30 * s),
        f"{name} - {result.get('n_items')} items, {result.get('n_classes')} classes, "
        f"{result.get('folds')} folds",
        fill=INK,
        font=title_font,
        anchor="mm",
    )

    # whole-pool accuracy
    _, yf = px(0, full)
    _dashed(draw, (left, yf), (right, yf), INK, 2 * s, 10 * s, 6 * s)
    draw.text(
        (right - 8 * s, yf - 6 * s), f"k-NN on the whole pool: {full:.3f}", fill=INK, font=small, anchor="rb"
    )

    # curves, then the 90 % / 95 % marks on top of them
    legend: list[tuple[str, str, str]] = []  # colour, name, the labels it took
    marks: list[tuple[float, float, str, str]] = []
    others = 0
    for n, acc in curves.items():
        if not acc:
            continue
        col = RANDOM if n == "random" else PALETTE[others % len(PALETTE)]
        others += n != "random"
        pts = [px(i + 1, a) for i, a in enumerate(acc)]
        if len(pts) == 1:
            draw.ellipse(
                [pts[0][0] - 3 * s, pts[0][1] - 3 * s, pts[0][0] + 3 * s, pts[0][1] + 3 * s], fill=col
            )
        else:
            draw.line(pts, fill=col, width=(3 if n == "random" else 2) * s + s, joint="curve")
        st = strategies[n]
        reach = []
        for pct, key, shape, dash in (
            ("90 %", "labels_to_90", "triangle", (3, 5)),
            ("95 %", "labels_to_95", "square", (9, 6)),
        ):
            at = st.get(key)
            reach.append(f"{pct}: {at} labels" if at is not None else f"{pct}: not reached")
            if at is not None and 1 <= int(at) <= len(acc):
                x, y = px(int(at), acc[int(at) - 1])
                _dashed(draw, (x, top_px), (x, bottom_px), col, s, dash[0] * s, dash[1] * s)
                marks.append((x, y, shape, col))
        legend.append((col, n, f"{reach[0]} | {reach[1]}"))
    for x, y, shape, col in marks:
        _marker(draw, x, y, shape, col, 7 * s)

    # legend, lower right inside the plot (learning curves rise: that corner is the emptiest)
    rows = [*legend, (INK, "whole-pool accuracy", "triangle 90 %, square 95 % of it")]
    row_h = 22 * s
    texts = [f"{n}  -  {what}" for _, n, what in rows]
    text_w = max((draw.textlength(t, font=small) for t in texts), default=0)
    box_w, box_h = text_w + 60 * s, row_h * len(rows) + 12 * s
    bx1, by1 = right - 12 * s, bottom_px - 12 * s
    bx0, by0 = bx1 - box_w, by1 - box_h
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    ImageDraw.Draw(overlay).rectangle(
        [bx0, by0, bx1, by1], fill=(255, 255, 255, 225), outline=(180, 180, 180, 255), width=s
    )
    img.paste(overlay, (0, 0), overlay)
    draw = ImageDraw.Draw(img)
    for i, ((col, n, _), text) in enumerate(zip(rows, texts, strict=True)):
        y = by0 + 6 * s + row_h * i + row_h / 2
        if n == "whole-pool accuracy":
            _dashed(draw, (bx0 + 10 * s, y), (bx0 + 42 * s, y), col, 2 * s, 6 * s, 4 * s)
        else:
            draw.line([(bx0 + 10 * s, y), (bx0 + 42 * s, y)], fill=col, width=4 * s)
        draw.text((bx0 + 50 * s, y), text, fill=INK, font=small, anchor="lm")

    out = Path(path)
    with atomic_file(out, "wb") as f:  # a complete PNG or the old file, never a part
        img.resize((width, height), Image.Resampling.LANCZOS).save(f, format="PNG")
    return out
