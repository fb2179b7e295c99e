"""Transformer 3 · Attention: where the CLS token looks, one head or all heads of a layer, the heads'
average and attention rollout; where any patch looks; how far every head looks, layer by layer;
and which of these pictures can be trusted."""

from ui import session
from ui.cached import transformer as cached
from ui.widgets.attention_lesson import attention_lesson
from ui.widgets.encoder import choose_encoder, keep_aspect_toggle
from ui.widgets.header import page_header

text = page_header("tr_attention")
choice = choose_encoder("transformer", allow_random_toggle=True, key="tr_attention_random")
subject = session.subject(choice, keep_aspect=keep_aspect_toggle("tr_attention_keep_aspect"))
views = cached.attention_views(subject)
pixels = cached.network_pixels(subject)
attention_lesson(text, choice, subject, views, pixels)
