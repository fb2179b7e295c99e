"""The pocket example carried through four pages — convolution, ReLU, pooling, GAP — on the learner's
own edits: every grid checked against arithmetic done here, one colour scale per kind of number,
grids drawn to scale, and sums that a learner can re-check from the digits shown."""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal

import numpy as np
import pytest
from conftest import assert_ok, markdown, markdown_with, open_page, plain, run_with_edits
from number_grids import grid_titled, html_grids

from vision_core import load_model, preprocess, trace
from vision_core.cnn import activations
from vision_core.cnn.pocket import POCKET_FILTERS, POCKET_IMAGE
from vision_core.samples import load_sample

CONV, RELU, POOL, GAP = (f"pages/cnn_{p}.py" for p in ("convolution", "relu", "pooling", "embedding"))


def by_hand(picture: np.ndarray, filters: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Convolution (2×2, stride 1), ReLU, 2×2 max pooling with stride 2 and GAP, by loops."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, k in filters.items():
        conv = np.array(
            [[(picture[y : y + 2, x : x + 2] * k).sum() for x in range(3)] for y in range(3)], dtype=float
        )
        relu = np.where(conv > 0, conv, 0.0)
        pooled = np.array([[relu[0:2, 0:2].max()]])  # the one 2×2 window that fits at stride 2
        out[name] = {"conv": conv, "relu": relu, "pooled": pooled, "gap": np.array(pooled.mean())}
    return out


def edited_grids() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    picture, b = POCKET_IMAGE.copy(), POCKET_FILTERS["B"].copy()
    picture[0, 0], b[0, 0] = 7, 2
    return picture, {"A": POCKET_FILTERS["A"], "B": b}


def test_the_learners_edits_are_carried_through_relu_pooling_and_gap():
    at = open_page(CONV)
    run_with_edits(at, {"conv_pocket_picture_0": {"0": {"0": 7}}, "conv_pocket_filter_B_0": {"0": {"0": 2}}})
    assert_ok(at)
    picture, filters = edited_grids()
    kept = at.session_state["pocket_grids"]
    np.testing.assert_array_equal(kept["picture"], picture)
    np.testing.assert_array_equal(kept["B"], filters["B"])
    hand = by_hand(picture, filters)

    at.switch_page(RELU).run()
    assert_ok(at)
    for name in filters:
        np.testing.assert_array_equal(
            grid_titled(at, f"Filter {name}: convolution").values, hand[name]["conv"]
        )
        np.testing.assert_array_equal(
            grid_titled(at, f"Filter {name}: after ReLU").values, hand[name]["relu"]
        )
    assert "(with your edits from the convolution page)" in markdown(at)

    at.switch_page(POOL).run()
    at.radio(key="pool_pocket_map__en").set_value("map_relu_b").run()
    assert_ok(at)
    np.testing.assert_array_equal(grid_titled(at, "Input").values, hand["B"]["relu"])
    np.testing.assert_array_equal(grid_titled(at, "Max-pool").values, hand["B"]["pooled"])

    at.switch_page(GAP).run()
    assert_ok(at)
    vector = grid_titled(at, "GAP: the vector").values
    np.testing.assert_array_equal(vector, [[hand["A"]["gap"], hand["B"]["gap"]]])
    for name in filters:
        assert f"Filter {name}: ({hand[name]['pooled'][0, 0]:g}) / 1 = **{hand[name]['gap']:g}**" in markdown(
            at
        )

    at.switch_page(CONV).run()  # back again: the editors open on the learner's numbers
    assert_ok(at)
    tables = {t.key: t.value.to_numpy() for t in at.dataframe}
    np.testing.assert_array_equal(tables["conv_pocket_picture_0"], picture)
    np.testing.assert_array_equal(tables["conv_pocket_filter_B_0"], filters["B"])
    at.button(key="conv_pocket_reset").click().run()  # and a reset brings back the course notes' numbers
    at.switch_page(GAP).run()
    hand = by_hand(POCKET_IMAGE, POCKET_FILTERS)
    np.testing.assert_array_equal(
        grid_titled(at, "GAP: the vector").values, [[hand["A"]["gap"], hand["B"]["gap"]]]
    )
    assert "(with the course notes' numbers" in markdown(at)


@pytest.mark.parametrize(
    "b00,verdict", [(3, "Filter B's number is the larger"), (0, "Filter A's number is the larger")]
)
def test_the_gap_page_ends_on_the_vector_and_says_what_is_true_of_it(b00, verdict):
    picture, filters = edited_grids()
    filters["B"][0, 0] = b00
    at = open_page(GAP, pocket_grids={"picture": picture, **filters})
    assert_ok(at)
    hand = by_hand(picture, filters)
    a, b = float(hand["A"]["gap"]), float(hand["B"]["gap"])
    np.testing.assert_array_equal(grid_titled(at, "GAP: the vector, 2 numbers").values, [[a, b]])
    said = markdown_with(at, "The picture has become the vector")
    assert f"**[{a:g}, {b:g}]**" in said and verdict in said
    assert (a > b) == ("Filter A's" in said)


def colour_of(grid, value: float) -> set:
    return {
        c
        for row_v, row_c in zip(grid.labels, grid.colours, strict=True)
        for v, c in zip(row_v, row_c, strict=True)
        if float(v) == value
    }


def test_one_colour_scale_per_kind_of_number_and_grids_drawn_to_scale():
    at = open_page(CONV)
    at.radio(key="conv_pocket_filter").set_value("B").run()
    at.slider(key="conv_pocket_step").set_value(9).run()
    assert_ok(at)
    conv_b = grid_titled(at, "Feature map of B so far")
    hand = by_hand(POCKET_IMAGE, POCKET_FILTERS)["B"]["conv"]
    np.testing.assert_array_equal(conv_b.values, hand)
    for label, (r, g, b) in zip(
        conv_b.labels[0] + conv_b.labels[1], conv_b.colours[0] + conv_b.colours[1], strict=True
    ):
        value = float(label)
        assert (value < 0) == (b > r + 40) and (value > 0) == (r > b + 40), (
            value,
            (r, g, b),
        )  # blue < 0 < red

    at.switch_page(RELU).run()
    relu_conv, relu_after = grid_titled(at, "Filter B: convolution"), grid_titled(at, "Filter B: after ReLU")
    assert relu_conv.colours == conv_b.colours  # the same map in the same colours on both pages
    for v in {float(x) for x in np.ravel(hand) if x > 0}:
        assert colour_of(relu_after, v) == colour_of(relu_conv, v)  # ReLU keeps positive cells as they were

    at.switch_page(POOL).run()
    grids = html_grids(at)[:4]  # input, max, average, 2×2 sum
    assert {g.cell for g in grids} == {grids[0].cell}  # one cell size: a 2×2 result is drawn half as wide
    values = np.concatenate([g.values.ravel() for g in grids])
    darkest = [
        c
        for g in grids
        for row_v, row_c in zip(g.labels, g.colours, strict=True)
        for v, c in zip(row_v, row_c, strict=True)
        if float(v) == values.max()
    ]
    assert sum(darkest[0]) == min(
        sum(c) for g in grids for row in g.colours for c in row
    )  # one range for all four
    for v in set(grids[1].values.ravel()):
        assert colour_of(grids[1], v) == colour_of(grids[0], v)  # a max-pooled value keeps its colour


@pytest.fixture(scope="module")
def lite0_stem():
    model = load_model("efficientnet_lite0")
    tr = trace(model, preprocess(load_sample("chelsea"), "efficientnet_lite0"), stop_after=["relu_stem"])
    return tr.array("_bn0")[0], tr.array("relu_stem")[0]


def test_relu_maps_are_scaled_robustly_with_round_ticks_and_a_useful_function_range(lite0_stem):
    before, _ = lite0_stem
    at = open_page(RELU)
    assert_ok(at)
    channel = at.slider(key="relu_channel").value
    bound = float(np.percentile(np.abs(before[channel]), activations.ROBUST_PERCENTILE, method="higher"))
    assert bound < np.abs(before[channel]).max()  # not the outlier
    note = next(c.value for c in at.caption if c.value.startswith("Both maps share one colour scale"))
    assert f"from −{bound:.2f} (blue) to +{bound:.2f} (red): 99% of this channel's values" in note
    specs = {
        json.loads(c.proto.spec)["layout"].get("title", {}).get("text", ""): json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
    }
    hist = specs[f"Channel {channel}: values and the function"]["layout"]["yaxis2"]
    ticks = hist["tickvals"]
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0 and step / 10 ** np.floor(np.log10(step)) in (1, 2, 5)
    curves = specs[f"The functions, from {-activations.RELU6_CAP:g} to {activations.RELU6_CAP + 1:g}"]
    xs = np.concatenate([plotly_array(t["x"]) for t in curves["data"]])
    assert (xs.min(), xs.max()) == activations.COMPARE_RANGE


def plotly_array(a) -> np.ndarray:
    """An array of a Plotly spec, plain or in Plotly's binary encoding."""
    if isinstance(a, dict):
        return np.frombuffer(base64.b64decode(a["bdata"]), dtype=a["dtype"]).astype(float)
    return np.asarray(a, dtype=float)


def adds_up(terms: list[str], total: str) -> bool:
    return sum(Decimal(t.strip("()").replace(",", ".")) for t in terms) == Decimal(total.replace(",", "."))


def test_shown_sums_add_up_and_never_write_a_negative_zero():
    at = open_page(CONV)
    at.radio(key="conv_pocket_filter").set_value("B").run()
    for step in range(1, 10):
        at.slider(key="conv_pocket_step").set_value(step).run()
        line = markdown_with(at, "Output at row")
        assert "-0" not in line and "+ -" not in line and "−0" not in line, line
        terms, total = re.search(r": (.*) = \*\*(.*)\*\*", line).groups()
        assert adds_up(terms.split(" + "), total)
    for grid in html_grids(at):
        assert not any(re.fullmatch(r"-0(\.0*)?", s) for row in grid.labels for s in row), grid.title
    # the real layer's value taken apart: products add up to each Σ, the sums and bias to the value
    line = plain(markdown_with(at, "Sums of the channels"))
    terms, bias, total = re.search(r"channels (.*), plus the bias (\S+): \*\*(\S+)\*\*", line).groups()
    assert adds_up([re.sub(r"^\w+ ", "", t) for t in terms.split(" + ")] + [bias], total)
    for grid in html_grids(at):
        if grid.title.startswith("Products, Σ = "):
            assert adds_up([s for row in grid.labels for s in row], grid.title.removeprefix("Products, Σ = "))


@pytest.mark.parametrize("page", [CONV, RELU, POOL, GAP])
def test_pocket_pages_in_russian(page):
    picture, filters = edited_grids()
    at = open_page(page, lang="ru", pocket_grids={"picture": picture, **filters})
    assert_ok(at)
    if page == GAP:
        hand = by_hand(picture, filters)
        said = markdown_with(at, "Картинка превратилась в вектор")
        assert f"**[{hand['A']['gap']:g}; {hand['B']['gap']:g}]**: 2 числа" in said
