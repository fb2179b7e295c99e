"""Links that reopen a view: the page's choices, the sample photo, the encoder, the language and
presenter mode go into the address bar, and a copied link opens the same view in a new session."""

from __future__ import annotations

from conftest import APP, TIMEOUT, assert_ok, open_page, sample_photo
from streamlit.testing.v1 import AppTest

from ui import links
from ui.session import Photo


def open_link(page_file: str, params: dict[str, str]) -> AppTest:
    """A new browser session that opens ``page_file`` with these query parameters."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page_file)
    at.run()
    assert_ok(at)
    return at


def params(at: AppTest) -> dict[str, str]:
    return {k: v[0] if isinstance(v, list) else v for k, v in dict(at.query_params).items()}


def test_a_copied_link_reopens_the_same_view_in_a_new_session():
    at = open_page("pages/cnn_tensor.py", lang="ru")
    at.selectbox(key="photo_source_sample").set_value("coffee").run()  # the sidebar's sample
    at.number_input(key="tensor_size").set_value(161).run()
    at.number_input(key="tensor_pixel_row").set_value(12).run()
    at.number_input(key="tensor_pixel_col").set_value(40).run()
    assert_ok(at)
    link = params(at)
    assert link["lang"] == "ru" and link["photo"] == "coffee"
    assert (
        link["tensor_size"] == "161" and link["tensor_pixel_row"] == "12" and link["tensor_pixel_col"] == "40"
    )

    again = open_link("pages/cnn_tensor.py", link)
    assert again.session_state["lang"] == "ru"
    photo = again.session_state["photo"]  # the link's sample, not the default, named in Russian
    assert photo.key == sample_photo("coffee").key and photo.label == "Чашка кофе"
    assert again.number_input(key="tensor_size").value == 161
    assert again.number_input(key="tensor_pixel_row").value == 12
    assert again.number_input(key="tensor_pixel_col").value == 40
    assert params(again) == link  # and the reopened view writes the same link


def test_the_encoder_and_a_layer_and_head_come_back():
    at = open_page("pages/tr_attention.py")
    at.slider(key="tr_attention_layer").set_value(3).run()
    at.radio(key="tr_attention_head").set_value(2).run()
    assert_ok(at)
    link = params(at)
    assert link["tr_attention_layer"] == "3" and link["tr_attention_head"] == "2"
    again = open_link("pages/tr_attention.py", {**link, "model": "deit_tiny"})
    assert again.session_state["model_transformer"] == "deit_tiny"
    assert again.slider(key="tr_attention_layer").value == 3
    assert again.radio(key="tr_attention_head").value == 2


def test_an_own_photo_never_goes_into_a_link_and_opens_with_the_sample_saying_so(chelsea):
    own = Photo.from_bytes(chelsea.data + b"", "my_cat.jpg")
    # as after an upload in the sidebar: its source is "upload", and the photo came from there
    at = open_page("pages/cnn_tensor.py", photo=own, photo_source="upload", photo_source_id="upload:abc")
    link = params(at)
    assert link["photo"] == links.OWN
    assert not any("my_cat" in v for v in link.values())
    again = open_link("pages/cnn_tensor.py", link)
    assert again.session_state["photo"].label != "my_cat.jpg"
    assert any("never travel in links" in i.value for i in again.info)


def test_hostile_or_stale_values_are_refused_in_words_and_the_page_runs():
    again = open_link(
        "pages/cnn_tensor.py",
        {
            "tensor_size": "100000",
            "tensor_pixel_row": "x",
            "photo": "nope",
            "model": "nope",
            "_kept_choices": "1",
        },
    )
    said = " ".join(i.value for i in again.info)
    assert "not installed here" in said  # the unknown sample
    assert again.number_input(key="tensor_size").value == 224  # the widget refused 100000: dropped
    assert "_kept_choices" not in again.session_state or isinstance(
        again.session_state["_kept_choices"], dict
    )
    assert again.number_input(key="tensor_pixel_row").value != "x"
