"""One tracing mechanism for every model.

Every step a lesson talks about is a module of its own: a convolution, a batch norm, each ReLU
(never shared, never in place), a pooling, the residual add, a stage's output, the global average
pool, the L2 normalisation, the softmax, and for transformers the token sequence, Q, K, V and the
attention probabilities (the traced layers of :mod:`vision_core.engine.layers`).  Each of those
modules calls :func:`record` with its output.  Outside a
trace, :func:`record` is one context-variable lookup and returns; inside :func:`trace`, it stores
the step under the module's dotted name (``layer1.0.conv2``, ``blocks.3.attn.probs``).

The recorder lives in a :class:`contextvars.ContextVar`, not in forward hooks, so a model shared
by many learners (Streamlit's ``st.cache_resource``) carries no per-user state: two sessions can
trace the same model at the same moment, each seeing only its own steps.  This is
TransformerLens's ``HookPoint`` idea without the hooks.

Stored tensors are the outputs themselves (``detach()``-ed where autograd tracks them), never
copies: our models do nothing in place, and every stored tensor's version counter is checked at
the end of the trace, so an in-place change that would have corrupted a stored step is an error
rather than a silent wrong picture.  What a trace costs beyond the plain forward pass is then the
memory its kept steps hold and a few microseconds of bookkeeping per step (the module names of a
model are worked out once, each layer's arithmetic once per input size; ``bench/bench_trace.py``).
"""

from __future__ import annotations

import fnmatch
import weakref
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

_RECORDER: ContextVar[_Recorder | None] = ContextVar("encoder_lens_recorder", default=None)


def is_tracing() -> bool:
    """True while a :func:`trace` call is recording in this context."""
    return _RECORDER.get() is not None


def record(module: nn.Module, output: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
    """Record ``output`` as the step named after ``module``; return it unchanged."""
    recorder = _RECORDER.get()
    if recorder is not None:
        recorder.add(module, output, inputs)
    return output


@dataclass
class Step:
    """One recorded step of a forward pass.

    ``value`` is the output tensor (``None`` when the trace kept only shapes for this step),
    ``meta`` the hyper-parameters a lesson needs (kernel, stride, padding, parameter count,
    multiply-accumulates, ...), and ``inputs`` the names of the steps whose outputs fed it
    (``"input"`` is the preprocessed photo).
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    value: torch.Tensor | np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()

    def numpy(self) -> np.ndarray:
        if self.value is None:
            raise KeyError(f"the trace kept only the shape of {self.name!r}; ask for it with keep=")
        if isinstance(self.value, torch.Tensor):
            return self.value.detach().float().numpy()
        return np.asarray(self.value, dtype=np.float32)


class Trace:
    """An ordered, named record of a forward pass: ``trace["layer1.0.conv1"].value``."""

    def __init__(self, steps: dict[str, Step], output: Any = None):
        self.steps = steps
        self.output = output

    def __getitem__(self, name: str) -> Step:
        try:
            return self.steps[name]
        except KeyError:
            raise KeyError(f"no step {name!r} in this trace") from None

    def __contains__(self, name: object) -> bool:
        return name in self.steps

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps.values())

    def __len__(self) -> int:
        return len(self.steps)

    def names(self) -> list[str]:
        return list(self.steps)

    def of_kind(self, *kinds: str) -> list[Step]:
        return [s for s in self.steps.values() if s.kind in kinds]

    def array(self, name: str) -> np.ndarray:
        """The step's value as float32 NumPy (batch dimension kept)."""
        return self[name].numpy()

    @property
    def nbytes(self) -> int:
        """Memory held by the stored values (views of one tensor counted once)."""
        seen: set[int] = set()
        total = 0
        for step in self.steps.values():
            v = step.value
            if isinstance(v, torch.Tensor):
                key = v.untyped_storage().data_ptr()
                if key not in seen:
                    seen.add(key)
                    total += v.untyped_storage().nbytes()
            elif isinstance(v, np.ndarray):
                total += v.nbytes
        return total

    def compact(self, dtype: np.dtype | type = np.float16, keep: Iterable[str] | None = None) -> Trace:
        """A NumPy copy for caching: values cast to ``dtype`` (float16 halves the memory and is
        plenty for pictures), optionally only the steps matching ``keep`` patterns; every step's
        shape and meta are kept.  The result pickles without torch tensors."""
        patterns = list(keep) if keep is not None else None
        steps = {}
        for name, step in self.steps.items():
            value = None
            if step.value is not None and (patterns is None or _matches(name, step.kind, patterns)):
                value = step.numpy().astype(dtype)
            steps[name] = replace(step, value=value, meta=dict(step.meta))
        output = self.output
        if isinstance(output, torch.Tensor):
            output = output.detach().float().numpy()
        return Trace(steps, output)


def _matches(name: str, kind: str, patterns: list[str]) -> bool:
    return any(p == kind or fnmatch.fnmatchcase(name, p) for p in patterns)


class _StopTrace(Exception):
    """Raised inside the forward pass once every step asked for has been recorded."""


# For every module of a model: id(module) -> dotted name, and id(module) -> weak reference (to tell
# a module from a newer one that got the id of a freed one).  Made once per model object: walking a
# model's 248 modules (EfficientNet-Lite0) on every trace cost half a millisecond.  A module missing
# from the map, or an id now held by another module, makes the map again, so a changed model is
# never named from a stale map.
ModuleNames = tuple[dict[int, str], dict[int, weakref.ref]]
_NAMES: weakref.WeakKeyDictionary[nn.Module, ModuleNames] = weakref.WeakKeyDictionary()


def _module_names(model: nn.Module, refresh: bool = False) -> ModuleNames:
    found = None if refresh else _NAMES.get(model)
    if found is None:
        modules = list(model.named_modules())
        found = ({id(m): name for name, m in modules}, {id(m): weakref.ref(m) for _, m in modules})
        _NAMES[model] = found
    return found


class _Recorder:
    """Collects the steps of one forward pass.

    The bookkeeping of a kept step (its sources, its arithmetic, the ``Step`` itself) waits in
    ``_pending`` until the forward pass is over or a step that keeps no value comes: done between
    two large kernels, each step's few dict look-ups ran on cold caches and cost ~14 µs, five times
    what they cost in one go afterwards (``bench/bench_trace.py``).  Only the version counter is
    read at once, so an in-place change made after the step ran is still caught.  A kept step holds
    its output (and its inputs) anyway, so waiting holds no extra memory; a step that keeps no value
    is booked at once, as before, and its output is free to go.  ``steps`` books what waits first.
    """

    def __init__(self, model: nn.Module, keep: list[str] | None, stop_after: set[str] | None):
        self.model = model
        self.names, self._modules = _module_names(model)
        self.keep = keep
        self.stop_after = set(stop_after) if stop_after else None
        self._steps: dict[str, Step] = {}
        # kept steps not booked yet: (module, name, output, inputs, output's version when recorded)
        self._pending: list[tuple[nn.Module, str, torch.Tensor, tuple[torch.Tensor, ...], int]] = []
        self.versions: list[tuple[torch.Tensor, int, str]] = []
        # which step produced a tensor: id -> (weak reference, step name)
        self.producer: dict[int, tuple[weakref.ref, str]] = {}

    @property
    def steps(self) -> dict[str, Step]:
        """Every step recorded so far, in the order they ran."""
        if self._pending:
            self._book_pending()
        return self._steps

    def source_of(self, t: torch.Tensor) -> str | None:
        entry = self.producer.get(id(t))
        if entry is not None and entry[0]() is t:
            return entry[1]
        return None

    def add_input(self, x: torch.Tensor) -> None:
        self._store("input", "input", x, {}, ())

    def name_of(self, module: nn.Module) -> str:
        name = self.names.get(id(module))
        if name is None or self._modules[id(module)]() is not module:  # new to the map: walk again
            self.names, self._modules = _module_names(self.model, refresh=True)
            name = self.names.get(id(module))
            if name is None:
                raise RuntimeError(
                    f"{type(module).__name__} records a step but is not part of the traced model"
                )
        return name

    def add(self, module: nn.Module, output: torch.Tensor, inputs: tuple[torch.Tensor, ...]) -> None:
        name = self.name_of(module)
        if self.keep is None or _matches(name, getattr(module, "kind", "step"), self.keep):
            self._pending.append((module, name, output, inputs, output._version))
        else:
            if self._pending:  # its sources may be among them
                self._book_pending()
            self._book(module, name, output, inputs, None)
        if self.stop_after is not None:
            self.stop_after.discard(name)
            if not self.stop_after:
                raise _StopTrace

    def _book_pending(self) -> None:
        pending, self._pending = self._pending, []
        for entry in pending:
            self._book(*entry)

    def _book(
        self,
        module: nn.Module,
        name: str,
        output: torch.Tensor,
        inputs: tuple[torch.Tensor, ...],
        version: int | None,
    ) -> None:
        """Store one step; ``version`` is its output's version counter when kept, else ``None``."""
        producer = self.producer
        sources = []
        for t in inputs:
            entry = producer.get(id(t))
            if entry is not None and entry[0]() is t:
                sources.append(entry[1])
        step_meta = getattr(type(module), "step_meta", None)  # traced layers say their arithmetic
        meta = step_meta(module, inputs, output) if step_meta is not None else {}
        self._put(name, getattr(module, "kind", "step"), output, meta, tuple(sources), version)

    def _store(self, name: str, kind: str, t: torch.Tensor, meta: dict, sources: tuple[str, ...]) -> None:
        kept = self.keep is None or _matches(name, kind, self.keep)
        self._put(name, kind, t, meta, sources, t._version if kept else None)

    def _put(
        self, name: str, kind: str, t: torch.Tensor, meta: dict, sources: tuple[str, ...], version: int | None
    ) -> None:
        steps = self._steps
        if name in steps:
            raise RuntimeError(f"step {name!r} ran twice in one forward pass: a module is shared")
        value = None
        if version is not None:
            # a tensor outside autograd is stored as it is (detach() would only make an alias of it)
            value = t.detach() if t.requires_grad else t
            self.versions.append((value, version, name))
        steps[name] = Step(name, kind, tuple(t.shape), value, meta, sources)
        self.producer[id(t)] = (weakref.ref(t), name)

    def check_versions(self) -> None:
        if self._pending:
            self._book_pending()
        for value, version, name in self.versions:
            if value._version != version:
                raise RuntimeError(f"step {name!r} was changed in place after it was recorded")


def trace(
    model: nn.Module,
    x: torch.Tensor,
    *,
    keep: Iterable[str] | None = None,
    stop_after: Iterable[str] | None = None,
) -> Trace:
    """Run ``model(x)`` and return its output with every named step.

    ``keep`` limits which steps keep their values: step names with shell-style wildcards
    (``"layer1.*"``) or kinds (``"conv"``); the others keep only their shape and meta.
    ``stop_after`` ends the forward pass as soon as all the named steps have run (the output is
    then ``None``), so a page about the first layer does not pay for the last.
    """
    keep_list = None if keep is None else list(keep)
    recorder = _Recorder(model, keep_list, set(stop_after) if stop_after is not None else None)
    token = _RECORDER.set(recorder)
    output = None
    try:
        recorder.add_input(x)
        with torch.no_grad():
            try:
                output = model(x)
            except _StopTrace:
                output = None
    finally:
        _RECORDER.reset(token)
    recorder.check_versions()
    if recorder.stop_after:
        missing = ", ".join(sorted(recorder.stop_after))
        raise KeyError(f"the forward pass ended without running: {missing}")
    return Trace(recorder.steps, output)
