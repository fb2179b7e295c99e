"""vision_core — the engine of Encoder Lens: real encoders, their weights, preprocessing, tracing,
attention and embeddings.  It never imports Streamlit; a notebook can do::

    from vision_core import load_model, preprocess, trace, load_image
    model = load_model("efficientnet_lite0")            # embedded, works offline
    x = preprocess(load_image("cat.jpg"), "efficientnet_lite0")
    tr = trace(model, x)                                # every named step of the forward pass
    tr["_conv_stem"].shape, tr["gap"].value             # (1, 32, 112, 112), the 1280-d vector
"""

from vision_core.engine.encoders import ENCODERS, build_model, load_model, preprocess, preprocess_photo
from vision_core.engine.preprocess import ImageError, load_image
from vision_core.engine.trace import Trace, trace
from vision_core.engine.weights import WeightsUnavailable

__all__ = [
    "ENCODERS",
    "ImageError",
    "Trace",
    "WeightsUnavailable",
    "build_model",
    "load_image",
    "load_model",
    "preprocess",
    "preprocess_photo",
    "trace",
]
