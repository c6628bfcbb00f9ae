"""Draw aldesk's icon: one shape list, written as the scalable SVG and rendered to the hicolor PNG sizes.

The picture: a cloud of unlabeled items (pale dots) on a blue tile, and the one item that most deserves a label
(orange, checked). Pillow draws the PNGs from the same shapes as the SVG (supersampled 8x, then downscaled), so
no SVG renderer is needed and the two never drift apart.

    python packaging/linux/make_icons.py        # rewrites aldesk/resources/icons/
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

APP_ID = "io.github.aldesk.Aldesk"
SIZES = (16, 32, 48, 64, 128, 256)
ICONS = Path(__file__).resolve().parents[2] / "aldesk" / "resources" / "icons"

UNIT = 256  # the SVG's view box; every coordinate below is in these units
TILE = {"x": 16, "y": 16, "size": 224, "radius": 48, "fill": "#1F4E79"}
DOT_FILL = "#8FB3D6"
DOTS = [  # (cx, cy, r): the unlabeled pool, denser toward the lower left
    (64, 92, 11),
    (98, 70, 9),
    (60, 136, 12),
    (98, 114, 11),
    (84, 168, 10),
    (126, 150, 10),
    (58, 196, 9),
    (112, 200, 12),
    (150, 196, 9),
    (190, 176, 11),
    (164, 150, 8),
    (198, 210, 8),
]
PICK = {"cx": 164, "cy": 92, "r": 44, "fill": "#F5A623", "ring": "#FFFFFF", "ring_width": 8}
CHECK = {"points": [(143, 93), (158, 108), (185, 79)], "width": 13, "stroke": "#FFFFFF"}


def svg() -> str:
    t, p, c = TILE, PICK, CHECK
    dots = "\n".join(f'  <circle cx="{x}" cy="{y}" r="{r}" fill="{DOT_FILL}"/>' for x, y, r in DOTS)
    pts = " ".join(f"{x},{y}" for x, y in c["points"])
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{UNIT}" height="{UNIT}" viewBox="0 0 {UNIT} {UNIT}">
  <title>aldesk</title>
  <rect x="{t["x"]}" y="{t["y"]}" width="{t["size"]}" height="{t["size"]}" rx="{t["radius"]}" fill="{t["fill"]}"/>
{dots}
  <circle cx="{p["cx"]}" cy="{p["cy"]}" r="{p["r"]}" fill="{p["fill"]}" stroke="{p["ring"]}" \
stroke-width="{p["ring_width"]}"/>
  <polyline points="{pts}" fill="none" stroke="{c["stroke"]}" stroke-width="{c["width"]}" \
stroke-linecap="round" stroke-linejoin="round"/>
</svg>
"""


def render(size: int, supersample: int = 8) -> Image.Image:
    s = size * supersample / UNIT  # units -> pixels of the supersampled canvas
    img = Image.new("RGBA", (size * supersample,) * 2, (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    t = TILE
    d.rounded_rectangle(
        [t["x"] * s, t["y"] * s, (t["x"] + t["size"]) * s, (t["y"] + t["size"]) * s],
        radius=t["radius"] * s,
        fill=t["fill"],
    )
    for x, y, r in DOTS:
        d.ellipse([(x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s], fill=DOT_FILL)
    p = PICK
    # SVG strokes are centred on the outline: the ring reaches r + w/2 outside, the fill r - w/2 inside.
    outer, inner = p["r"] + p["ring_width"] / 2, p["r"] - p["ring_width"] / 2
    d.ellipse(
        [(p["cx"] - outer) * s, (p["cy"] - outer) * s, (p["cx"] + outer) * s, (p["cy"] + outer) * s],
        fill=p["ring"],
    )
    d.ellipse(
        [(p["cx"] - inner) * s, (p["cy"] - inner) * s, (p["cx"] + inner) * s, (p["cy"] + inner) * s],
        fill=p["fill"],
    )
    c = CHECK
    pts = [(x * s, y * s) for x, y in c["points"]]
    w = c["width"] * s
    d.line(pts, fill=c["stroke"], width=round(w), joint="curve")
    for x, y in (pts[0], pts[-1]):  # round line caps, as stroke-linecap="round"
        d.ellipse([x - w / 2, y - w / 2, x + w / 2, y + w / 2], fill=c["stroke"])
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    scalable = ICONS / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    (scalable / f"{APP_ID}.svg").write_text(svg(), encoding="utf-8")
    for size in SIZES:
        out = ICONS / "hicolor" / f"{size}x{size}" / "apps"
        out.mkdir(parents=True, exist_ok=True)
        render(size).save(out / f"{APP_ID}.png", optimize=True)
    print(f"wrote {ICONS}")


if __name__ == "__main__":
    main()
