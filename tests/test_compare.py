"""Facts for the CNN-vs-ViT table, read off shape-only traces."""

from __future__ import annotations

from vision_core.cnn.convolution import shape_table
from vision_core.engine.encoders import seeded_model
from vision_core.transformer.compare import count_parameters, encoder_facts


def test_cnn_and_vit_facts():
    lite0 = seeded_model("efficientnet_lite0")
    f = encoder_facts(lite0, shape_table(lite0, 224))
    assert (f.family, f.input_size, f.first_step, f.first_kernel, f.first_stride) == (
        "cnn",
        (224, 224),
        "_conv_stem",
        (3, 3),
        (2, 2),
    )
    assert (f.grid_step, f.grid_shape, f.vector_step, f.vector_dim) == (
        "relu_head",
        (1280, 7, 7),
        "gap",
        1280,
    )
    assert f.params == count_parameters(lite0) == sum(p.numel() for p in lite0.parameters())

    vit = seeded_model("dino_vits8")
    v = encoder_facts(vit, shape_table(vit, (224, 160)))
    assert (v.family, v.input_size, v.first_step, v.first_kernel, v.first_stride) == (
        "vit",
        (224, 160),
        "patch_embed.proj",
        (8, 8),
        (8, 8),
    )
    assert (v.grid_step, v.grid_shape, v.vector_step, v.vector_dim) == (
        "patch_grid",
        (384, 28, 20),
        "cls",
        384,
    )
