"""The perturbation lab's controls: boxes dragged on the network's picture (a drawing canvas in
"rect" mode) or placed with numbers, and the sliders of the geometry (crop, shift, rotation) and of
the appearance (blur, hue, saturation, brightness), with a button that puts them all back.  They
return one :class:`~vision_core.why.perturb.Perturbation`; nothing is computed here."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st
from PIL import Image
from streamlit_drawable_canvas import st_canvas

from lessons import Lesson
from ui import session
from ui.charts.palette import HIGHLIGHT
from vision_core.why.perturb import Box, Perturbation

CANVAS = 336  # the canvas's width in screen pixels
_ORIGIN = {"left": 0.0, "top": 0.0, "center": 0.5, "right": 1.0, "bottom": 1.0}
# each slider: (lesson section, key suffix, low, high, neutral, step); sides are scaled to the picture
_GEOMETRY = (("crop_label", "crop", 0.3, 1.0, 1.0, 0.05), ("angle_label", "angle", -180, 180, 0, 5))
_LOOK = (
    ("blur_label", "blur", 0.0, 8.0, 0.0, 0.5),
    ("hue_label", "hue", -180, 180, 0, 10),
    ("saturation_label", "saturation", 0.0, 2.0, 1.0, 0.1),
    ("brightness_label", "brightness", 0.2, 2.0, 1.0, 0.1),
)


def canvas_boxes(json_data: dict[str, Any] | None, scale: float, side: tuple[int, int]) -> tuple[Box, ...]:
    """The rectangles drawn on the canvas, in the picture's own pixels (canvas pixels / ``scale``),
    clipped to the picture (``side`` = (width, height)); the canvas reports scaled, moved boxes
    with their ``scaleX``/``scaleY`` and origin, as Fabric.js keeps them."""
    boxes = []
    for obj in (json_data or {}).get("objects", []):
        if str(obj.get("type", "")).lower() != "rect":
            continue
        width = obj.get("width", 0) * obj.get("scaleX", 1)
        height = obj.get("height", 0) * obj.get("scaleY", 1)
        left = obj.get("left", 0) - _ORIGIN.get(obj.get("originX", "left"), 0.0) * width
        top = obj.get("top", 0) - _ORIGIN.get(obj.get("originY", "top"), 0.0) * height
        x0, y0 = max(0, round(left / scale)), max(0, round(top / scale))
        x1, y1 = min(side[0], round((left + width) / scale)), min(side[1], round((top + height) / scale))
        if x1 > x0 and y1 > y0:
            boxes.append((x0, y0, x1, y1))
    return tuple(boxes)


def _neutral(key: str, side: int) -> dict[str, Any]:
    values: dict[str, Any] = {f"{key}_{name}": neutral for _, name, _, _, neutral, _ in _GEOMETRY + _LOOK}
    values |= {f"{key}_dx": 0, f"{key}_dy": 0, f"{key}_box_width": 0, f"{key}_box_height": 0}
    values |= {f"{key}_box_left": side // 4, f"{key}_box_top": side // 4}
    return values


def _sliders(container, text: Lesson, key: str, rows) -> dict[str, float]:
    return {
        name: container.slider(text(label), low, high, step=step, key=f"{key}_{name}")
        for label, name, low, high, _, step in rows
    }


def perturbation_controls(
    text: Lesson, picture: np.ndarray, fill: tuple[int, int, int], key: str
) -> Perturbation:
    """Where to cover the picture and how to change it; starts (and resets) at no change at all."""
    h, w = picture.shape[:2]
    for name, value in _neutral(key, w).items():
        st.session_state.setdefault(name, value)
    reach = max(1, w // 4)
    limits = {"box_left": (0, w - 1), "box_top": (0, h - 1), "box_width": (0, w), "box_height": (0, h)}
    for name, (low, high) in (limits | {"dx": (-reach, reach), "dy": (-reach, reach)}).items():
        value = st.session_state[f"{key}_{name}"]  # another encoder may see a smaller picture
        st.session_state[f"{key}_{name}"] = min(max(value, low), high)
    left, right = st.columns(2)
    with left:
        modes = {"draw": text("mode_draw"), "numbers": text("mode_numbers")}
        mode = session.remembered_choice(
            st.radio, f"{key}_mode", list(modes), "draw", label=text("cover_label"), format_func=modes.get,
            horizontal=True,
        )  # fmt: skip
        if mode == "draw":
            st.caption(text("canvas_hint"))  # above the canvas: its tool bar sits on its top edge
            scale = CANVAS / w
            drawn = st_canvas(
                fill_color=f"rgb{fill}", stroke_width=2, stroke_color=HIGHLIGHT,
                background_image=Image.fromarray(picture), width=CANVAS, height=round(h * scale),
                drawing_mode="rect", key=f"{key}_canvas",
            )  # fmt: skip
            covers = canvas_boxes(drawn.json_data, scale, (w, h))
        else:
            a, b = st.columns(2)
            x0 = a.slider(text("box_left"), 0, w - 1, key=f"{key}_box_left")
            y0 = b.slider(text("box_top"), 0, h - 1, key=f"{key}_box_top")
            bw = a.slider(text("box_width"), 0, w, key=f"{key}_box_width")
            bh = b.slider(text("box_height"), 0, h, key=f"{key}_box_height")
            covers = ((x0, y0, min(w, x0 + bw), min(h, y0 + bh)),) if bw and bh else ()
    with right:
        geometry, look = st.columns(2)
        g = _sliders(geometry, text, key, _GEOMETRY)
        dx = geometry.slider(text("shift_x_label"), -reach, reach, key=f"{key}_dx")
        dy = geometry.slider(text("shift_y_label"), -reach, reach, key=f"{key}_dy")
        a = _sliders(look, text, key, _LOOK)
        st.button(
            text("reset_button"),
            key=f"{key}_reset",
            on_click=st.session_state.update,
            args=(_neutral(key, w),),
        )
    return Perturbation(
        covers=covers, crop=float(g["crop"]), angle=float(g["angle"]), shift=(int(dx), int(dy)),
        blur=float(a["blur"]), hue=float(a["hue"]), saturation=float(a["saturation"]),
        brightness=float(a["brightness"]),
    )  # fmt: skip
