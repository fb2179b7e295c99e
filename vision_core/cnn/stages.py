"""Going deeper: a network read stage by stage, from a trace.

* :func:`stage_of_steps` — which stage each step belongs to.
* :func:`shape_rows` — the stage table: every top-level step that reshapes the grid, with its
  shape, the field of view of one of its values and the parameters spent to get there.
* :func:`last_grid`, :func:`last_grid_question` — the network's last grid, and "how big will it
  be for this input?" with its rivals.
* :func:`receptive_box` — the square of input pixels one value of a step can see.
* :func:`strongest_channels` — the channels with the largest average, for browsing.
* :func:`residual_add` — a residual add taken apart: input (shortcut) + branch = output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vision_core.cnn.convolution import ReceptiveField, receptive_fields
from vision_core.engine.trace import Trace
from vision_core.quiz import Choices, choices

TABLE_KINDS = ("conv", "pool", "stage", "gap", "l2norm")


def stage_of_steps(tr: Trace, stages: Sequence[str]) -> dict[str, str]:
    """Each step's stage: a stage owns the steps inside its blocks (dotted names: ``layer2.0.conv1``,
    ``_blocks.4.add``) that ran after the previous stage's output, and its own output step.  The
    stem (``conv1``, ``_conv_stem``...) and the head (``gap``, ``_conv_head``...) belong to none."""
    owner: dict[str, str] = {}
    pending: list[str] = []
    remaining = list(stages)
    for step in tr:
        if remaining and step.name == remaining[0]:
            owner.update(dict.fromkeys(pending, step.name))
            owner[step.name] = step.name
            remaining.pop(0)
            pending = []
        elif "." in step.name:
            pending.append(step.name)
    if remaining:
        raise KeyError(f"no stage {remaining[0]!r} in this trace (or not in this order)")
    return owner


@dataclass(frozen=True)
class ShapeRow:
    """One line of the stage table."""

    name: str
    kind: str
    shape: tuple[int, ...]  # without the batch: (C, H, W) or (C,)
    numbers: int  # C·H·W
    receptive_field: int | None  # side in input pixels of what one value sees
    jump: int | None  # input pixels between neighbouring values
    params: int  # learned numbers of this row's own work (see shape_rows)
    with_norm: bool = False  # the count includes the batch norm that follows this convolution

    @property
    def kind_id(self) -> str:
        """The kind as the lesson names it: ``conv_bn`` for a convolution whose count includes the
        batch norm after it, else the step's kind."""
        return "conv_bn" if self.with_norm else self.kind

    def row(self) -> dict[str, object]:
        """The row as a line of the lesson's table ("—" where a field or jump does not apply)."""
        return {
            "step": self.name,
            "kind": self.kind,
            "shape": format_shape(self.shape),
            "numbers": self.numbers,
            "field": "—" if self.receptive_field is None else str(self.receptive_field),
            "jump": "—" if self.jump is None else str(self.jump),
            "params": self.params,
        }


def _is_row(step) -> bool:
    return step.name == "input" or ("." not in step.name and step.kind in TABLE_KINDS)


def shape_rows(tr: Trace) -> list[ShapeRow]:
    """The input, then every top-level step (no dot in its name) that is a convolution, a pooling,
    a stage's output, the global average pool or the L2 normalisation.  Works on a shapes-only
    trace (:func:`vision_core.cnn.convolution.shape_table`), so no weights are needed.

    ``params`` counts what each row's work learned: a stage holds the parameters of its blocks
    (dotted names, which run before the stage's output); a top-level convolution holds its own and
    those of the batch norm after it.  The classifier after the last row is not counted, so the
    column adds up to the encoder's parameters.
    """
    steps = list(tr)
    row_at = [i for i, s in enumerate(steps) if _is_row(s)]
    params = dict.fromkeys(row_at, 0)
    norms: set[int] = set()
    for i, s in enumerate(steps):
        n = int(s.meta.get("params", 0))
        if not n or i > row_at[-1]:
            continue
        # inside a block (dotted name): the stage whose output comes next; else the row it follows
        inside = "." in s.name
        owner = next(r for r in row_at if r >= i) if inside else max(r for r in row_at if r <= i)
        params[owner] += n
        if s.kind == "bn" and owner != i and steps[owner].kind == "conv":
            norms.add(owner)
    fields = receptive_fields(tr)
    rows = []
    for i in row_at:
        s = steps[i]
        field = fields.get(s.name)
        shape = tuple(s.shape[1:])
        rows.append(
            ShapeRow(
                s.name,
                s.kind,
                shape,
                int(np.prod(shape)),
                field.size if field else None,
                field.jump if field else None,
                params[i],
                i in norms,
            )
        )
    return rows


def format_shape(shape: Sequence[int]) -> str:
    """``(64, 113, 113)`` → ``"64×113×113"``."""
    return "×".join(str(int(d)) for d in shape)


@dataclass(frozen=True)
class Box:
    """Input rows ``top..bottom`` and columns ``left..right`` (inclusive); may reach past the photo."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def size(self) -> int:
        return self.bottom - self.top + 1

    @classmethod
    def spanning(cls, rows: np.ndarray, cols: np.ndarray) -> Box:
        """The box from the first to the last of a window's input ``rows`` and ``cols``."""
        return cls(int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1]))

    def clipped(self, height: int, width: int) -> Box:
        """The part that lies on a ``height``×``width`` picture."""
        return Box(
            max(self.top, 0), max(self.left, 0), min(self.bottom, height - 1), min(self.right, width - 1)
        )


def receptive_box(tr: Trace, step: str, y: int, x: int) -> Box:
    """The input pixels that value (y, x) of ``step`` can see (its theoretical receptive field).

    Follows the recorded inputs like :func:`receptive_fields`, also tracking where the field of
    value (0, 0) starts: a convolution or pooling with top/left padding p moves it by
    ``−p·jump``.  Padding that a step adds at the bottom/right does not move it.
    """
    start: dict[str, tuple[int, int]] = {"input": (0, 0)}
    fields: dict[str, ReceptiveField] = {"input": ReceptiveField(1, 1)}
    for s in tr:
        if s.name == "input" or len(s.shape) != 4:
            continue
        known = [n for n in s.inputs if n in fields]
        if not known:
            continue
        base = max(known, key=lambda n: fields[n].size)
        f, (sy, sx) = fields[base], start[base]
        if s.kind in ("conv", "pool"):
            k, d, stride = s.meta["kernel"][0], s.meta["dilation"][0], s.meta["stride"][0]
            top, _, left, _ = s.meta["padding"]
            fields[s.name] = ReceptiveField(f.size + (k - 1) * d * f.jump, f.jump * stride)
            start[s.name] = (sy - top * f.jump, sx - left * f.jump)
        else:
            fields[s.name], start[s.name] = f, (sy, sx)
        if s.name == step:
            break
    if step not in fields:
        raise KeyError(f"{step!r} is not a spatial step of this trace")
    f, (sy, sx) = fields[step], start[step]
    top, left = sy + y * f.jump, sx + x * f.jump
    return Box(top, left, top + f.size - 1, left + f.size - 1)


def strongest_channels(feature_map: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` channels of a (C, H, W) map (batch allowed) with the largest average,
    strongest first (ties by index)."""
    m = np.asarray(feature_map, dtype=np.float64)
    if m.ndim == 4:
        m = m[0]
    means = m.reshape(m.shape[0], -1).mean(axis=1)
    return np.argsort(-means, kind="stable")[:n]


@dataclass(frozen=True)
class ResidualAdd:
    """``output = identity + branch`` of one block, each (C, H, W): the shortcut carries the
    block's input (through a 1×1 convolution when the shape changes), the branch what the block
    computed."""

    step: str
    identity_step: str
    branch_step: str
    identity: np.ndarray
    branch: np.ndarray
    output: np.ndarray

    @property
    def projected(self) -> bool:
        """True when the shortcut goes through the block's own 1×1 convolution (ResNet's
        ``downsample``) because the shape changes; False when it carries the block's input as is."""
        return self.identity_step.startswith(self.step.rsplit(".", 1)[0] + ".")

    def most_changed_channel(self) -> int:
        """The channel where the branch changes the shortcut most (largest mean |branch|)."""
        return int(np.argmax(np.abs(self.branch).mean(axis=(1, 2))))

    def scale(self, channel: int) -> float:
        """The largest magnitude in the three maps of ``channel``: one colour scale for all three."""
        return float(max(np.abs(m[channel]).max() for m in (self.identity, self.branch, self.output)))

    def at(self, channel: int, y: int, x: int) -> tuple[float, float, float]:
        """The three numbers at one position: shortcut, branch, their sum as the network recorded it."""
        return (
            float(self.identity[channel, y, x]),
            float(self.branch[channel, y, x]),
            float(self.output[channel, y, x]),
        )


def residual_add(tr: Trace, step: str) -> ResidualAdd:
    """The add step and both of its recorded inputs (all three must be kept in the trace)."""
    s = tr[step]
    if s.kind != "add":
        raise ValueError(f"{step!r} is a {s.kind} step, not a residual add")
    if len(s.inputs) != 2:
        raise ValueError(f"the trace does not name both inputs of {step!r}")
    identity_step, branch_step = s.inputs
    return ResidualAdd(
        step,
        identity_step,
        branch_step,
        tr.array(identity_step)[0],
        tr.array(branch_step)[0],
        tr.array(step)[0],
    )


def residual_adds(tr: Trace, stages: Sequence[str], stage: str) -> list[str]:
    """The residual adds that belong to ``stage``, in the order they ran."""
    owner = stage_of_steps(tr, stages)
    return [s.name for s in tr.of_kind("add") if owner.get(s.name) == stage]


def consumers(tr: Trace, step: str) -> list[str]:
    """The steps that read ``step``'s output (from their recorded inputs), in the order they ran."""
    return [s.name for s in tr if step in s.inputs]


def peak_position(feature_map: np.ndarray) -> tuple[int, int]:
    """(row, col) of the largest value of a 2-D map (the first one in reading order on ties)."""
    m = np.asarray(feature_map, dtype=np.float64)
    y, x = np.unravel_index(int(np.argmax(m)), m.shape)
    return int(y), int(x)


def strongest_cell(feature_map: np.ndarray) -> tuple[int, int, int]:
    """(channel, row, col): the strongest channel of a (C, H, W) map (batch allowed) and the
    position of its largest value — where a view of a new step opens."""
    m = np.asarray(feature_map)
    channel = int(strongest_channels(m, 1)[0])
    return (channel, *peak_position((m[0] if m.ndim == 4 else m)[channel]))


def journey_shapes(model, tr: Trace) -> list[tuple[int, ...]]:
    """The shapes a photo takes on its way through a CNN: the input, the first convolution's output,
    each stage's output and the pooled vector — the start page's one-line journey."""
    first_conv = next(s.name for s in tr.of_kind("conv"))
    return [
        tr["input"].shape,
        tr[first_conv].shape,
        *(tr[stage].shape for stage in model.stages),
        tr["gap"].shape,
    ]


def total_params(rows: Sequence[ShapeRow]) -> int:
    """The learned parameters spent by all the rows of a stage table."""
    return sum(r.params for r in rows)


def shown_channels(feature_map: np.ndarray, n: int, strongest: bool) -> list[int]:
    """The channels a mosaic of (C, H, W) shows: the first ``n``, or the ``n`` strongest."""
    if strongest:
        return [int(c) for c in strongest_channels(feature_map, n)]
    return list(range(min(n, len(feature_map))))


@dataclass(frozen=True)
class FieldGrowth:
    """How the receptive field grows: every row that has one, the first convolution's field, the
    last stage's, and how many times wider the last is."""

    rows: list[ShapeRow]
    first: int
    last: int

    @property
    def times(self) -> float:
        return self.last / self.first


def field_growth(tr: Trace, stages: Sequence[str]) -> FieldGrowth:
    """The receptive field of every step that has one, from the first convolution to the last stage."""
    rows = [r for r in shape_rows(tr) if r.receptive_field]
    first, last = rows[1].receptive_field, [r for r in rows if r.name in stages][-1].receptive_field
    assert first is not None and last is not None  # rows keeps only the rows that have a field
    return FieldGrowth(rows, first, last)


def last_grid(rows: Sequence[ShapeRow]) -> ShapeRow:
    """The last row of the stage table that is still a grid (C, H, W): what the pooling at the
    end (GAP, or CLIP's attention pooling) summarises."""
    return [r for r in rows if len(r.shape) == 3][-1]


def last_grid_numbers(rows: Sequence[ShapeRow]) -> dict[str, int | float | str]:
    """What the lesson says of the last grid: the input side, the step, its rows, the input pixels
    between its neighbouring values (``jump``) and the input side divided by that."""
    size, last = rows[0].shape[1], last_grid(rows)
    jump = last.jump or 1
    return {"size": size, "step": last.name, "side": last.shape[1], "jump": jump, "ratio": size / jump}


def last_grid_question(rows: Sequence[ShapeRow]) -> Choices[int]:
    """ "How many rows will the last grid have for this input?" — the table's own (its trace's)
    height, against the input divided by the total stride rounded down and rounded up (only one
    of them is what the padding gives, or neither), the same with one stride of 2 forgotten, and
    one row more and less."""
    size, last = rows[0].shape[1], last_grid(rows)
    side, jump = last.shape[1], last.jump or 1
    rivals = [size // jump, -(-size // jump), size // max(jump // 2, 1), side + 1, side - 1]
    return choices(side, [r for r in rivals if r > 0], salt="last_grid")
