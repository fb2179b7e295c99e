"""A seeded (untrained) model is the same network even while other threads build models — as on a
Streamlit server where two learners open pages at once (torch's generator is shared by threads)."""

from __future__ import annotations

import threading

import torch

from vision_core.engine import encoders


def test_seeded_model_is_reproducible_under_concurrent_builds():
    reference = encoders.seeded_model("deit_tiny")
    stop = threading.Event()

    def build_others() -> None:
        while not stop.is_set():
            encoders.build_model("resnet18")

    other = threading.Thread(target=build_others)
    other.start()
    try:
        copies = [encoders.seeded_model("deit_tiny") for _ in range(2)]
    finally:
        stop.set()
        other.join()
    for copy in copies:
        for (name, a), b in zip(reference.state_dict().items(), copy.state_dict().values(), strict=True):
            assert torch.equal(a, b), name
