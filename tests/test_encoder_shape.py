"""An encoder's one-line description reads its numbers off the architecture: `encoders.shape`,
built on the meta device, agrees with the real network built on the CPU, and draws no random numbers."""

from __future__ import annotations

import pytest
import torch

from vision_core.engine import encoders
from vision_core.engine.models import resnet, vit


@pytest.mark.parametrize("name", ["resnet18", "deit_tiny", "tiny_vit_digits"])
def test_shape_agrees_with_the_network_built_on_the_cpu(name):
    model, entry = encoders.build_model(name), encoders.get(name)
    shape = encoders.shape(name)
    if entry.family == "vit":
        assert shape.blocks == len(model.blocks)
        assert shape.heads == model.blocks[0].attn.heads
        side = entry.preprocessing.crop
        tokens = model.patch_embed.proj(torch.zeros(1, 3, side, side)).flatten(2).shape[-1]
        assert shape.tokens == tokens == (side // entry.patch) ** 2
    else:
        stages = [model.layer1, model.layer2, model.layer3, model.layer4]
        assert shape.blocks == sum(len(s) for s in stages) == 8
        assert all(isinstance(b, resnet.BasicBlock) for s in stages for b in s)
        assert shape.heads is None and shape.tokens is None
    assert shape.dim == entry.embedding_dim


def test_shape_draws_no_random_numbers_and_counts_every_encoder():
    before = torch.random.get_rng_state()
    encoders.shape.cache_clear()
    shapes = {name: encoders.shape(name) for name in encoders.names()}
    assert torch.equal(before, torch.random.get_rng_state())
    assert shapes["resnet50"].blocks == 16 and shapes["vit_b_16"].heads == 12
    for name, s in shapes.items():
        assert s.blocks > 0, name
        if encoders.get(name).family == "vit":
            assert s.heads and s.tokens, name
    assert isinstance(encoders.build_model("deit_tiny").blocks[0], vit.Block)
