"""Why 2 · What a channel looks for: the gallery photos that excite one channel of one layer most
(Microscope-style), each with the square of pixels its strongest cell sees, and a picture
optimised to excite the channel (feature visualisation, Olah et al., Distill 2017)."""

import streamlit as st

from ui.cached import why_channel as cached
from ui.charts.why_channel import feature_picture, objective_curve, top_photos
from ui.presenter import step
from ui.session import remembered_choice
from ui.widgets import question
from ui.widgets.cnn import opens_on
from ui.widgets.encoder import choose_encoder
from ui.widgets.header import page_header
from vision_core.why import channels

TOP = 8  # photos shown for a channel
text = page_header("why_channel")
choice = choose_encoder("why", allow_random_toggle=True, key="why_channel_random")
side, shapes = choice.encoder.preprocessing.crop, cached.shapes(choice)
layers = {layer.name: layer for layer in channels.channel_layers(shapes)}

# --- the gallery and the layer ------------------------------------------------------------
step(text("gallery_heading"))
st.session_state.setdefault("why_channel_variants", cached.MAX_VARIANTS)
variants = st.slider(text("variants_label"), 0, cached.MAX_VARIANTS, key="why_channel_variants")
names = list(layers)


def option(n: str) -> str:
    return text(
        "layer_option", layer=n, channels=layers[n].channels, rows=layers[n].grid[0], cols=layers[n].grid[1]
    )


name = remembered_choice(
    st.selectbox,
    "why_channel_layer",
    names,
    names[len(names) // 2],
    label=text("layer_label"),
    format_func=option,
)
layer = layers[name]
items = cached.gallery(variants)
counts = channels.source_counts(items)
st.markdown(text("gallery_text", photos=len(items), samples=counts["sample"], variants=counts["variant"]))
st.caption(text("yours_text", yours=counts["upload"]) if counts["upload"] else text("yours_none"))
maxima = channels.stack(cached.maxima(items, choice), layer)
opens_on("why_channel_shown", (choice, name), {"why_channel_channel": channels.opening_channel(maxima)})
channel = st.slider(text("channel_label"), 0, layer.channels - 1, key="why_channel_channel")

# --- the photos that excite it most --------------------------------------------------------
step(text("top_heading", layer=name, channel=channel))
field = channels.field_side(shapes, layer)
where = {"layer": name, "channels": layer.channels, "rows": layer.grid[0], "cols": layer.grid[1]}
kind = "token" if layer.token else "cnn"
question.ask(
    "field_side",
    text(f"q_field_{kind}", side=side, **where),
    channels.field_question(shapes, list(layers.values()), layer, side),
    text(f"q_field_{kind}_why", side=side, field=field, jump=channels.field_jump(shapes, layer), **where),
    format_func=lambda n: text("q_field_option", n=int(n)),
)
if layer.token:
    st.markdown(text("layer_token", tokens=layer.grid[0] * layer.grid[1], field=field, **where))
else:
    st.markdown(text("layer_cnn", field=field, side=side, **where))
hits = channels.top_hits(maxima, channel, TOP)
boxes = [channels.field_box(shapes, layer, h.row, h.col, side) for h in hits]
photos = [cached.prepared_pixels(items[h.photo], choice.name) for h in hits]
st.markdown(text("top_text", **channels.summary(maxima, channel, hits, items)))
if not layer.token and all(channels.covers_all(b, side) for b in boxes):
    st.caption(text("whole_picture", field=field, side=side))
rows = channels.hit_rows(items, hits)
captions = [text("hit_variant" if r["variant"] else "hit_caption", **r) for r in rows]
crops = [channels.crop(p, b) for p, b in zip(photos, boxes, strict=True)]
top_photos(photos, boxes, crops, captions)

# --- a picture made for the channel --------------------------------------------------------
step(text("fv_heading"))
st.markdown(text("fv_intro"))
fv = cached.stored_feature_vis(choice, layer, channel)
if fv is None and st.button(text("fv_button", layer=name, channel=channel), key="why_channel_fv"):
    cached.feature_vis(choice, layer, channel)
    st.rerun()  # the stored picture is drawn without the button
if fv is None:
    st.caption(text("fv_waiting", steps=cached.FV_STEPS))
else:
    s = fv.settings
    left, right = st.columns(2)
    feature_picture(left, fv.pixels, text("fv_caption", layer=name, channel=channel, side=fv.side))
    axes = (text("curve_x"), text("curve_y", channel=channel))
    objective_curve(right, fv.curve, text("curve_title"), axes)
    said = {"steps": s.steps, "seed": s.seed, "value": fv.value, "grey": fv.grey, "noise": fv.noise}
    st.markdown(text("fv_text", **said))
    st.markdown(text("fv_beats" if fv.beats_baselines else "fv_fails", **said))
    st.caption(text("fv_how", jitter=s.jitter, scale=s.scale, angle=s.angle, lr=s.lr))
