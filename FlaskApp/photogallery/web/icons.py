"""The site's icon at /favicon.ico, where browsers look for it without being told."""

from __future__ import annotations

import io
from functools import cache

from flask import Blueprint, Response
from PIL import Image, ImageDraw

bp = Blueprint("icons", __name__)


@cache
def icon_png() -> bytes:
    """static/icon.svg drawn again in PNG (every browser reads PNG from /favicon.ico)."""
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 31, 31), radius=7, fill="#0a64d8")
    draw.ellipse((18.5, 6.5, 25.5, 13.5), fill="#ffd34d")
    draw.polygon([(3, 27), (12, 15), (18, 23), (22, 18), (29, 27)], fill="#ffffff")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@bp.get("/favicon.ico")
def favicon():
    response = Response(icon_png(), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
