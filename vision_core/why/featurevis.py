"""Feature visualisation by optimisation: a picture made to excite one channel as much as it can.

The method is that of Olah, Mordvintsev and Schubert, "Feature Visualization", Distill (2017),
https://distill.pub/2017/feature-visualization/ — the code here is our own, short version of it:

* **The objective** is the channel's mean over its grid (a CNN's map, a ViT dimension over the
  patch tokens: :func:`vision_core.why.channels.channel_maps`), maximised by gradient ascent with
  Adam on the picture's parameters.  The forward pass runs up to the channel's layer only.
* **A decorrelated parametrisation.**  Pixels optimised directly fill with high-frequency noise
  that excites a channel without looking like anything.  Instead the picture is the inverse real
  FFT of a spectrum whose coefficient at frequency f is scaled by 1/f (natural photos have
  roughly that spectrum), so a step of Adam moves every frequency about equally in the photo's
  own statistics; and its three planes are mixed into R, G, B by the square root of the colour
  covariance of the bundled colour photos (:func:`colour_matrix`), so the planes are
  decorrelated colours.  A sigmoid maps the result into 0..1.
* **Robustness.**  Every step sees the picture randomly shifted (jitter), scaled and rotated
  (one affine warp, reflecting at the edges), so only patterns that excite the channel wherever
  and however big they are survive — not single pixels that happen to line up with a stride.

A fixed ``seed`` draws the start and every step's warp, and the number of steps is fixed, so the
same (network, layer, channel, seed) always gives the same picture on one machine.  The picture
is :data:`SIDE` pixels square (Lucid's default size), a multiple of a ViT's patch.  Gradients are
taken with :func:`torch.autograd.grad` with respect to the picture's parameters only: the shared
model's parameters are never given a ``.grad``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vision_core import samples
from vision_core.engine import encoders
from vision_core.engine import trace as tracing
from vision_core.engine.trace import trace
from vision_core.why.channels import Layer, channel_maps

SIDE = 128  # pixels of the optimised picture (a ViT's: the nearest multiple of its patch below)


@dataclass(frozen=True)
class Settings:
    """How the picture is optimised: Adam's steps and learning rate, the seed, and the random warp
    of each step (shift up to ``jitter`` pixels, scale by 1 ± ``scale``, rotate by ± ``angle``°)."""

    steps: int = 128
    lr: float = 0.05
    seed: int = 0
    jitter: int = 8
    scale: float = 0.1
    angle: float = 10.0
    start: float = 0.01  # the spread of the spectrum's random start (a nearly grey picture)


@dataclass(frozen=True)
class FeatureVis:
    """The optimised picture and what the channel makes of it."""

    layer: str
    channel: int
    settings: Settings
    pixels: np.ndarray  # (side, side, 3) uint8: the picture shown
    curve: np.ndarray  # (steps,) float32: the objective on each step's warped picture
    value: float  # the channel's mean on ``pixels`` as shown (no warp)
    grey: float  # ... on a uniform grey picture of the same size
    noise: float  # ... on uniform random noise of the same size

    @property
    def side(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def beats_baselines(self) -> bool:
        """Whether the picture excites the channel more than both grey and noise do."""
        return self.value > max(self.grey, self.noise)


def picture_side(name: str) -> int:
    """The optimised picture's side for encoder ``name``: :data:`SIDE`, at most the encoder's own
    crop, a whole number of patches for a ViT."""
    e = encoders.get(name)
    side = min(SIDE, e.preprocessing.crop)
    return max(e.patch, side - side % e.patch) if e.patch else side


@cache
def colour_matrix() -> np.ndarray:
    """(3, 3) float32: the symmetric square root of the RGB covariance (pixels in 0..1) of the bundled
    colour photos, scaled so that its longest column has length 1.  Its columns are the colours
    the picture's three decorrelated planes paint with."""
    pixels = []
    for s in samples.list_samples("photo"):
        image = s.load()
        image.thumbnail((96, 96))
        rgb = np.asarray(image.convert("RGB"), dtype=np.float64).reshape(-1, 3) / 255
        if np.ptp(rgb, axis=1).max() > 0:  # grey photos carry no colour statistics
            pixels.append(rgb)
    w, v = np.linalg.eigh(np.cov(np.concatenate(pixels), rowvar=False))
    root = v @ np.diag(np.sqrt(np.clip(w, 0.0, None))) @ v.T
    return (root / np.linalg.norm(root, axis=0).max()).astype(np.float32)


def spectrum_scale(side: int) -> torch.Tensor:
    """(side, side // 2 + 1): 1 / frequency for each coefficient of a real 2-D FFT (the constant
    term as if at the lowest frequency), normalised to a root mean square of 1."""
    fy = np.fft.fftfreq(side)[:, None]
    fx = np.fft.rfftfreq(side)[None, :]
    scale = 1.0 / np.maximum(np.sqrt(fx**2 + fy**2), 1.0 / side)
    return torch.from_numpy((scale / np.sqrt(np.mean(scale**2))).astype(np.float32))


def fourier_picture(coeffs: torch.Tensor, scale: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """The picture (1, 3, side, side) in 0..1 that spectrum ``coeffs`` (3, side, side//2+1, 2) makes."""
    side = scale.shape[0]
    planes = torch.fft.irfft2(torch.view_as_complex(coeffs) * scale, s=(side, side), norm="ortho")
    rgb = torch.einsum("ij,jhw->ihw", colours, planes)  # (3, side, side): decorrelated → RGB
    return torch.sigmoid(rgb)[None]


def random_warp(x: torch.Tensor, gen: torch.Generator, s: Settings) -> torch.Tensor:
    """``x`` (1, 3, H, W) shifted, scaled and rotated by a random amount (reflected at the edges)."""
    u = torch.rand(4, generator=gen) * 2 - 1  # four numbers in −1..1
    angle, zoom = math.radians(s.angle) * float(u[0]), 1 + s.scale * float(u[1])
    side = x.shape[-1]
    shift = (2 * s.jitter / side * float(u[2]), 2 * s.jitter / side * float(u[3]))  # in −1..1 units
    cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
    theta = torch.tensor([[[cos, -sin, shift[0]], [sin, cos, shift[1]]]], dtype=x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _normaliser(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    p = encoders.get(name).preprocessing
    mean, std = torch.tensor(p.mean).view(1, 3, 1, 1), torch.tensor(p.std).view(1, 3, 1, 1)
    return lambda x: (x - mean) / std


class _LiveStep:
    """Stands in for the trace's recorder (the same context variable, so the shared model gets no
    hooks): keeps ``step``'s output with its autograd graph, and the patch grid of a ViT, then
    stops the forward pass."""

    def __init__(self, names: dict[int, str], step: str):
        self.names, self.step = names, step
        self.output: torch.Tensor | None = None
        self.grid: tuple[int, int] | None = None

    def add(self, module: nn.Module, output: torch.Tensor, inputs: tuple[torch.Tensor, ...]) -> None:
        name = self.names.get(id(module))
        if name == "patch_embed.proj":
            self.grid = (output.shape[-2], output.shape[-1])
        if name == self.step:
            self.output = output
            raise tracing._StopTrace


def live_maps(model: nn.Module, names: dict[int, str], x: torch.Tensor, layer: Layer) -> torch.Tensor:
    """``layer``'s channel maps (B, C, rows, cols) for input ``x``, with their autograd graph;
    ``names`` is ``{id(module): name}`` of ``model``'s modules."""
    recorder = _LiveStep(names, layer.name)
    token = tracing._RECORDER.set(recorder)  # type: ignore[arg-type]
    try:
        with torch.enable_grad(), contextlib.suppress(tracing._StopTrace):
            model(x)
    finally:
        tracing._RECORDER.reset(token)
    if recorder.output is None:
        raise KeyError(f"the forward pass never ran a step {layer.name!r}")
    return channel_maps(recorder.output, layer, recorder.grid)


def channel_mean(model: nn.Module, name: str, layer: Layer, channel: int, pictures: np.ndarray) -> np.ndarray:
    """The channel's mean over its grid for each of ``pictures`` (N, H, W, 3) uint8, prepared like
    the encoder's photos after the crop (÷ 255, then its mean and std); (N,) float64."""
    x = torch.from_numpy(np.ascontiguousarray(pictures)).permute(0, 3, 1, 2).float() / 255
    tr = trace(model, _normaliser(name)(x), keep=[layer.name], stop_after=[layer.name])
    grid = None
    if layer.token:
        rows, cols = tr["patch_embed.proj"].shape[-2:]
        grid = (rows, cols)
    maps = channel_maps(tr.array(layer.name), layer, grid)  # (N, C, rows, cols)
    return maps[:, channel].reshape(len(pictures), -1).mean(axis=1, dtype=np.float64)


def visualise(
    model: nn.Module,
    name: str,
    layer: Layer,
    channel: int,
    settings: Settings = Settings(),
    on_progress: Callable[[int, int], None] | None = None,
) -> FeatureVis:
    """Optimise a picture for ``channel`` of ``layer`` (see the module's docstring); ``on_progress``
    is called with (steps done, steps) every few steps."""
    if not 0 <= channel < layer.channels:
        raise IndexError(f"{layer.name} has channels 0–{layer.channels - 1}, not {channel}")
    side, s = picture_side(name), settings
    gen = torch.Generator().manual_seed(s.seed)
    scale, colours = spectrum_scale(side), torch.from_numpy(colour_matrix())
    coeffs = (torch.randn(3, side, side // 2 + 1, 2, generator=gen) * s.start).requires_grad_(True)
    adam, normalise = torch.optim.Adam([coeffs], lr=s.lr), _normaliser(name)
    names = {id(m): n for n, m in model.named_modules()}
    curve = np.zeros(s.steps, dtype=np.float32)
    for i in range(s.steps):
        warped = random_warp(fourier_picture(coeffs, scale, colours), gen, s)
        objective = live_maps(model, names, normalise(warped), layer)[:, channel].mean()
        (coeffs.grad,) = torch.autograd.grad(-objective, [coeffs])
        adam.step()
        curve[i] = float(objective.detach())
        if on_progress is not None and ((i + 1) % 8 == 0 or i + 1 == s.steps):
            on_progress(i + 1, s.steps)
    with torch.no_grad():
        shown = fourier_picture(coeffs, scale, colours)[0].permute(1, 2, 0).numpy()
    pixels = np.round(shown * 255).astype(np.uint8)  # (side, side, 3)
    grey = np.full_like(pixels, 128)
    noise = np.random.default_rng(s.seed).integers(0, 256, pixels.shape, dtype=np.uint8)
    value, grey_value, noise_value = channel_mean(
        model, name, layer, channel, np.stack([pixels, grey, noise])
    )
    return FeatureVis(
        layer.name, channel, s, pixels, curve, float(value), float(grey_value), float(noise_value)
    )
