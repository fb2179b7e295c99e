"""CNN 5 · Going deeper, driven like a learner: stage, channel, position, the table's encoder and
input size, a residual block — every number checked against vision_core."""

from __future__ import annotations

import pytest
from conftest import assert_ok, markdown, open_page

from vision_core import load_model, preprocess, trace
from vision_core.cnn.convolution import receptive_fields, shape_table
from vision_core.cnn.stages import format_shape, receptive_box, residual_add, shape_rows
from vision_core.engine import encoders
from vision_core.samples import load_sample

PAGE = "pages/cnn_deeper.py"


@pytest.fixture(scope="module")
def lite0_trace():
    model = load_model("efficientnet_lite0")
    return trace(model, preprocess(load_sample("chelsea"), "efficientnet_lite0"))


def test_stage_channel_and_receptive_field(lite0_trace):
    at = open_page(PAGE)
    assert_ok(at)
    at.select_slider(key="deeper_stage").set_value("stage4").run()
    at.slider(key="deeper_channel").set_value(21).run()
    at.number_input(key="deeper_pos_row").set_value(2).run()
    at.number_input(key="deeper_pos_col").set_value(13).run()
    assert_ok(at)
    value = float(
        lite0_trace.array("stage4")[0, 21, 2, 13].astype("float16")
    )  # pictures are cached in float16
    box = receptive_box(lite0_trace, "stage4", 2, 13)
    jump = receptive_fields(lite0_trace)["stage4"].jump
    text = markdown(at)
    assert f"Cell (2, 13) of channel 21 holds **{value:.3f}**" in text
    assert f"**{box.size}×{box.size}** square of input pixels" in text
    assert f"cells of stage4 are {jump} pixels apart" in text
    past_edge = box.clipped(224, 224) != box
    assert any("only ever saw padding" in c.value for c in at.caption) == past_edge

    at.radio(key="deeper_order__en").set_value("order_strongest").run()
    assert_ok(at)
    caption = next(c.value for c in at.caption if c.value.startswith("16 of the 80 channels of stage4"))
    means = lite0_trace.array("stage4")[0].mean(axis=(1, 2))
    listed = [int(c) for c in caption.split("channels ")[-1].split(".")[0].split(", ")]
    assert listed == sorted(range(80), key=lambda c: -means[c])[:16]


def test_the_shape_table_for_resnet50_at_226_pixels():
    at = open_page(PAGE)
    at.selectbox(key="deeper_table_model").set_value("resnet50").run()
    at.number_input(key="deeper_table_size").set_value(226).run()
    assert_ok(at)
    table = at.dataframe[0].value
    assert list(table["shape (C×H×W)"]) == [
        "3×226×226", "64×113×113", "64×57×57", "256×57×57",
        "512×29×29", "1024×15×15", "2048×8×8", "2048", "2048",
    ]  # fmt: skip
    expected = shape_rows(shape_table(encoders.build_model("resnet50"), 226))
    assert list(table["step"]) == [r.name for r in expected]
    assert list(table["parameters"]) == [f"{r.params:,}" for r in expected]  # grouped in thousands
    assert list(table["receptive field"]) == [
        str(r.receptive_field) if r.receptive_field else "—" for r in expected
    ]
    total = sum(r.params for r in expected)
    assert any(f"spending {total:,} learned parameters" in c.value for c in at.caption)


def test_residual_add_numbers_add_up(lite0_trace):
    at = open_page(PAGE)
    at.select_slider(key="deeper_stage").set_value("stage4").run()
    assert at.selectbox(key="deeper_block").options == ["_blocks.6.add", "_blocks.7.add"]
    at.selectbox(key="deeper_block").set_value("_blocks.7.add").run()
    at.slider(key="deeper_add_channel").set_value(11).run()
    at.number_input(key="deeper_add_pos_row").set_value(3).run()
    at.number_input(key="deeper_add_pos_col").set_value(9).run()
    assert_ok(at)
    identity, branch, output = residual_add(lite0_trace, "_blocks.7.add").at(11, 3, 9)
    sum_text = f"shortcut **{identity:.4f}** + branch **{branch:.4f}** = output **{output:.4f}**"
    assert f"At (3, 9) of channel 11: {sum_text}" in markdown(at)
    assert "carries the block's input unchanged" in markdown(at)

    at.select_slider(key="deeper_stage").set_value("stage1").run()  # one block, no add: all adds offered
    assert_ok(at)
    assert "stage1 has no residual add" in "\n".join(i.value for i in at.info)
    assert len(at.selectbox(key="deeper_block").options) == len(lite0_trace.of_kind("add"))


@pytest.mark.slow
def test_resnet18_random_weights_projection_shortcut():
    at = open_page(PAGE, model_cnn="resnet18", deeper_random=True)
    assert_ok(at)
    at.select_slider(key="deeper_stage").set_value("layer3").run()
    at.selectbox(key="deeper_block").set_value("layer3.0.add").run()
    assert_ok(at)
    assert "block's own 1×1 convolution" in markdown(at)
    assert f"layer1 · {format_shape((64, 56, 56))}" in at.select_slider(key="deeper_stage").options


def test_russian_page_runs():
    at = open_page(PAGE, lang="ru")
    assert_ok(at)
    assert at.title[0].value.startswith("Вглубь")


@pytest.mark.parametrize("size,lang", [(226, "en"), (161, "ru")])
def test_the_question_reveals_the_last_grid_for_any_size(size, lang):
    import torch
    from conftest import wrong_then_right

    from vision_core.cnn.stages import last_grid_question

    model = encoders.build_model("resnet50").eval()
    with torch.no_grad():  # resnet's own forward, no recorder
        y = model.maxpool(model.relu(model.bn1(model.conv1(torch.zeros(1, 3, size, size)))))
        side = model.layer4(model.layer3(model.layer2(model.layer1(y)))).shape[-1]
    q = last_grid_question(shape_rows(shape_table(model, size)))
    assert q.correct == side
    at = open_page(PAGE, lang=lang, deeper_table_model="resnet50", deeper_table_size=size)
    assert_ok(at)
    said = wrong_then_right(at, "deeper_last_grid", q, f"{side} × {side}", lang)
    ratio = f"{size / 32:.2f}" if lang == "en" else f"{size / 32:.2f}".replace(".", ",")
    assert f"{size} / 32 = {ratio}" in said
