"""Many learners on one server: ``streamlit run app.py`` driven by N concurrent learner sessions.

Each learner speaks Streamlit's own websocket protocol, as the browser's front end does (protobuf
``BackMsg`` / ``ForwardMsg`` on ``/_stcore/stream``; uploads through ``/_stcore/upload_file``;
pictures fetched from ``/media``), but draws nothing: in a classroom every learner's browser draws
on their own computer, so a client that costs this machine almost nothing measures the server the
way twenty laptops would load it (twenty Chromium tabs on this machine's two cores would measure
Chromium).  A run of the script is *settled* when the server says it finished (``script_finished``,
after any ``st.rerun``) and every new picture it referred to has been fetched.
A control drawn inside a part of a page (``st.fragment``, ``ui/parts.py``) asks for a run of that
part alone, naming it, as the browser does.

Every learner, in lock-step phases (all learners start a phase together, each after a random
pause of up to ``--jitter`` seconds, like a class following the teacher):

1. opens the app (the welcome page, the default sample photo);
2. picks "Upload" and uploads its own photo (a sample with a few pixels changed: a new hash);
3. for each page of :data:`WALK` — three lesson pages and one lab page — opens it, then moves
   one control (the photo's trace cached by then: the target is p95 ≤ 2 s for these).

A warm-up learner first walks the same pages on a fresh server with the default photo (model
loading, the lab gallery's embeddings and its UMAP: once per server, shared by everyone after),
so that the table measures learners, not the server's first minute.

Printed per N: p50 / p95 time to settle per interaction kind, the server's CPU seconds per
interaction of each kind (utime + stime of the server process from ``/proc/<pid>/stat`` over
the phase, divided by the learners: the capacity figure that does not depend on the client), and
the server's peak resident memory (``VmHWM``).  Each N runs on a fresh server.

    python bench/bench_load.py [--sessions 1 5 10 20] [--quick] [--jitter 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests
from PIL import Image
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER_LOG = ROOT / "artifacts" / "bench_load_server.log"

from tests.served import cpu_seconds, served  # noqa: E402
from ui.server import LIBRARY_DEFAULTS  # noqa: E402
from vision_core import samples  # noqa: E402

# (page id, label of the control moved there): three lesson pages and one lab page
WALK = (
    ("cnn_convolution", "Feature map (filter number)"),
    ("cnn_relu", "Channel"),
    ("tr_attention", "Block (0 = first"),  # the label goes on with the model's last block
    ("emb_map", "Photo"),
)
QUICK_WALK = WALK[:1] + WALK[3:]
TIMEOUT = 600  # seconds one interaction may take before the run is called failed
FINISHED = ForwardMsg.ScriptFinishedStatus


# --- the server ---------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (all its threads), in seconds."""
        return cpu_seconds(self.pid)

    def status(self, name: str) -> int:
        """A ``/proc/<pid>/status`` memory line (``VmHWM``, ``VmRSS``) in bytes."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) * 1024
        raise KeyError(name)


@contextlib.contextmanager
def served_app(env_extra: dict[str, str]) -> Iterator[Server]:
    """The app as ``make run`` serves it (tests/served.py), its log in artifacts/."""
    with served(env=env_extra, log=SERVER_LOG) as app:
        yield Server(app.url, app.pid)


# --- one learner --------------------------------------------------------------------------------


@dataclass
class Widget:
    kind: str  # the element's proto field: "slider", "selectbox", "radio", "file_uploader"
    proto: object
    fragment: str = ""  # the part of the page (st.fragment) it was drawn in, if any


@dataclass
class Learner:
    """One browser tab's worth of protocol, without the drawing."""

    server: Server
    name: str
    http: requests.Session = field(default_factory=requests.Session)
    session_id: str = ""
    pages: dict[str, str] = field(default_factory=dict)  # url path → page script hash
    page_hash: str = ""
    widgets: dict[str, Widget] = field(default_factory=dict)  # label → the last run's widget
    states: dict[str, WidgetState] = field(default_factory=dict)  # widget id → value sent
    cached_hashes: set[str] = field(default_factory=set)  # the browser's message cache
    media_seen: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    xsrf: str = ""
    expect: str = ""  # a text the current run must show (the uploaded file's name)
    found: bool = False

    async def open(self) -> float:
        r = self.http.get(f"{self.server.url}/_stcore/health", timeout=30)
        r.raise_for_status()
        self.xsrf = self.http.cookies.get("_streamlit_xsrf", "")
        ws_url = self.server.url.replace("http://", "ws://") + "/_stcore/stream"
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        self.ws = await connect(
            ws_url,
            subprotocols=["streamlit", self.xsrf] if self.xsrf else ["streamlit"],
            additional_headers={"Cookie": cookie, "Origin": self.server.url},
            max_size=None,
            open_timeout=60,
            ping_interval=None,
        )
        return await self.rerun()

    async def close(self) -> None:
        await self.ws.close()

    # a rerun and its settling ---------------------------------------------------------------------

    async def rerun(self, *, page: str | None = None, fragment: str = "") -> float:
        """Ask for a run (on ``page`` when given; of one part of the page when ``fragment`` names
        it, as the browser does for a control drawn inside an ``st.fragment``) and wait until it
        has settled; seconds taken."""
        t0 = time.perf_counter()
        msg = BackMsg()
        state = msg.rerun_script
        if page is not None:
            self.page_hash = self.pages[page]
            self.states = {}  # the browser forgets the old page's widgets ...
            self.states.update(self._sidebar_states)  # ... but the sidebar's stay
        state.page_script_hash = self.page_hash
        state.fragment_id = fragment
        state.widget_states.widgets.extend(self.states.values())
        state.cached_message_hashes.extend(self.cached_hashes)
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-US"
        await self.ws.send(msg.SerializeToString())
        await self._settle()
        return time.perf_counter() - t0

    async def _settle(self) -> None:
        widgets: dict[str, Widget] = {}
        media: list[str] = []
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
            if fwd.metadata.cacheable and fwd.hash:
                self.cached_hashes.add(fwd.hash)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
                widgets, media = {}, []
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
                self.page_hash = fwd.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._read_element(fwd.delta.new_element, widgets, media, fwd.delta.fragment_id)
            elif kind == "script_finished":
                if fwd.script_finished == FINISHED.FINISHED_EARLY_FOR_RERUN:
                    continue
                part_only = fwd.script_finished == FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
                break
        if part_only:  # the rest of the page is still on screen, its widgets with it
            self.widgets = {**self.widgets, **widgets}
        else:
            self.widgets = widgets
            live = {w.proto.id for w in widgets.values()}
            self.states = {k: v for k, v in self.states.items() if k in live}
        await asyncio.gather(*(asyncio.to_thread(self._fetch, url) for url in media))

    def _read_element(self, element, widgets: dict[str, Widget], media: list[str], fragment: str) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.errors.append(f"exception: {element.exception.message[:200]}")
        elif kind == "alert" and element.alert.format == element.alert.ERROR:
            self.errors.append(f"error box: {element.alert.body[:200]}")
        if kind in ("slider", "selectbox", "radio", "file_uploader"):
            proto = getattr(element, kind)
            widgets[proto.label] = Widget(kind, proto, fragment)
        _media_urls(element, media)
        if self.expect and not self.found:
            self.found = _has_text(element, self.expect)
        for url in [u for u in media if u in self.media_seen]:
            media.remove(url)
        self.media_seen.update(media)

    def _fetch(self, url: str) -> None:
        self.http.get(f"{self.server.url}{url}", timeout=TIMEOUT).raise_for_status()

    @property
    def _sidebar_states(self) -> dict[str, WidgetState]:
        ids = {w.proto.id for label, w in self.widgets.items() if label in ("Your photo", "Upload a photo")}
        return {k: v for k, v in self.states.items() if k in ids}

    # what a learner does ------------------------------------------------------------------------

    def _widget(self, label: str) -> Widget:
        for name, widget in self.widgets.items():
            if name.startswith(label):
                return widget
        raise LookupError(f"{self.name}: no control {label!r} on the page; have {list(self.widgets)}")

    async def choose(self, label: str, option: str) -> float:
        w = self._widget(label)
        self.states[w.proto.id] = WidgetState(id=w.proto.id, string_value=option)
        return await self.rerun()

    async def move(self, label: str) -> float:
        """Move a slider one step up (down at its end), or a select box to its next option."""
        w = self._widget(label)
        proto = w.proto
        if w.kind == "slider":
            value = list(proto.value) if proto.set_value else list(proto.default)
            new = value[0] + proto.step if value[0] + proto.step <= proto.max else value[0] - proto.step
            state = WidgetState(id=proto.id)
            state.double_array_value.data.append(new)
        else:
            current = proto.raw_value if proto.set_value else proto.options[proto.default]
            index = list(proto.options).index(current) if current in proto.options else -1
            state = WidgetState(id=proto.id, string_value=proto.options[(index + 1) % len(proto.options)])
        self.states[proto.id] = state
        return await self.rerun(fragment=w.fragment)

    async def upload(self, data: bytes, file_name: str) -> float:
        """The sidebar's uploader: ask for an upload URL, PUT the file, rerun with it."""
        t0 = time.perf_counter()
        w = self._widget("Upload a photo")
        request = BackMsg()
        request.file_urls_request.request_id = uuid.uuid4().hex
        request.file_urls_request.file_names.append(file_name)
        request.file_urls_request.session_id = self.session_id
        await self.ws.send(request.SerializeToString())
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
            if fwd.WhichOneof("type") == "file_urls_response":
                urls = fwd.file_urls_response.file_urls[0]
                break
        await asyncio.to_thread(self._put, urls.upload_url, data, file_name)
        state = WidgetState(id=w.proto.id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = file_name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        self.states[w.proto.id] = state
        self.expect, self.found = file_name, False
        await self.rerun()
        if not self.found:
            self.errors.append(f"the upload of {file_name} is not shown as the photo in use")
        self.expect = ""
        return time.perf_counter() - t0

    def _put(self, upload_url: str, data: bytes, file_name: str) -> None:
        url = upload_url if upload_url.startswith("http") else f"{self.server.url}{upload_url}"
        r = self.http.put(
            url,
            files={"file": (file_name, data, "image/png")},
            headers={"X-Xsrftoken": self.xsrf},
            timeout=TIMEOUT,
        )
        r.raise_for_status()


def _media_urls(message, out: list[str]) -> None:
    """Every ``/media/...`` URL anywhere in a proto message (pictures the browser would fetch)."""
    for descriptor, value in message.ListFields():
        if descriptor.type == descriptor.TYPE_MESSAGE:
            for item in value if descriptor.is_repeated else (value,):
                _media_urls(item, out)
        elif descriptor.type == descriptor.TYPE_STRING:
            for item in value if descriptor.is_repeated else (value,):
                if item.startswith("/media/"):
                    out.append(item)


def _has_text(message, needle: str) -> bool:
    for descriptor, value in message.ListFields():
        items = value if descriptor.is_repeated else (value,)
        if descriptor.type == descriptor.TYPE_MESSAGE:
            if any(_has_text(item, needle) for item in items):
                return True
        elif descriptor.type == descriptor.TYPE_STRING and any(needle in item for item in items):
            return True
    return False


def learner_photo(i: int) -> tuple[bytes, str]:
    """Learner ``i``'s photo: a sample (in turn) with a few seeded pixels changed, as a PNG."""
    ids = [s.id for s in samples.list_samples("photo")]
    image = np.array(samples.load_sample(ids[i % len(ids)]))
    rng = np.random.default_rng(10_000 + i)
    for _ in range(4):
        image[rng.integers(image.shape[0]), rng.integers(image.shape[1])] = rng.integers(0, 256, 3)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue(), f"learner-{i:02d}.png"


# --- a class ------------------------------------------------------------------------------------


@dataclass
class Phase:
    kind: str  # "open app", "upload", "open page", "widget change"
    page: str
    seconds: list[float]
    cpu: float  # server CPU seconds over the phase


def steps_for(i: int, walk_pages) -> list:
    data, name = learner_photo(i)

    def open_page(page):
        return lambda lr: lr.rerun(page=page)

    def move(label):
        return lambda lr: lr.move(label)

    steps = [
        ("open app", "start", lambda lr: lr.open()),
        ("upload", "start", lambda lr: _upload(lr, data, name)),
    ]
    for page, label in walk_pages:
        steps += [("open page", page, open_page(page)), ("widget change", page, move(label))]
    return steps


async def _upload(learner: Learner, data: bytes, name: str) -> float:
    seconds = await learner.choose("Your photo", "Upload")
    return seconds + await learner.upload(data, name)


async def run_class(server: Server, n: int, walk_pages, jitter: float) -> list[Phase]:
    learners = [Learner(server, f"learner-{i:02d}") for i in range(n)]
    plans = [steps_for(i, walk_pages) for i in range(n)]
    phases: list[Phase] = []
    for k in range(len(plans[0])):
        kind, page, _ = plans[0][k]
        cpu0 = server.cpu_seconds()
        results = await asyncio.gather(
            *(_one(lr, plan[k], jitter) for lr, plan in zip(learners, plans, strict=True))
        )
        phases.append(Phase(kind, page, list(results), server.cpu_seconds() - cpu0))
    for lr in learners:
        for error in lr.errors:
            print(f"    ! {lr.name}: {error}")
        await lr.close()
    return phases


async def _one(learner: Learner, step, jitter: float) -> float:
    await asyncio.sleep(random.uniform(0, jitter))
    return await step[2](learner)


async def warm_up(server: Server, walk_pages) -> float:
    """One learner with the default photo walks the pages once: the server's one-off work."""
    t0 = time.perf_counter()
    lr = Learner(server, "warm-up")
    await lr.open()
    for page, label in walk_pages:
        await lr.rerun(page=page)
        await lr.move(label)
    for error in lr.errors:
        print(f"    ! warm-up: {error}")
    await lr.close()
    return time.perf_counter() - t0


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def report(n: int, phases: list[Phase], server: Server, warm: float) -> tuple[float, float]:
    """Print the table for one N; return the p95 and CPU seconds of a widget change (all pages)."""
    peak = server.status("VmHWM") / 2**20
    print(f"\nN = {n} learners  (warm-up walk {warm:.0f} s; server's peak resident memory {peak:.0f} MiB)")
    kinds = ("open app", "upload", "open page", "widget change")
    print(f"  {'interaction':<34}{'count':>6}{'p50 s':>9}{'p95 s':>9}{'max s':>9}{'CPU s each':>12}")
    for kind in kinds:
        mine = [p for p in phases if p.kind == kind]
        rows = [(f"{kind} ({p.page})", [p]) for p in mine] if kind in ("open page", "widget change") else []
        rows.append((f"{kind} (all)" if rows else kind, mine))
        for label, group in rows:
            seconds = [s for p in group for s in p.seconds]
            cpu = sum(p.cpu for p in group) / len(seconds)
            print(
                f"  {label:<34}{len(seconds):>6}{percentile(seconds, 50):>9.2f}"
                f"{percentile(seconds, 95):>9.2f}{max(seconds):>9.2f}{cpu:>12.3f}"
            )
    changes = [p for p in phases if p.kind == "widget change"]
    seconds = [s for p in changes for s in p.seconds]
    return percentile(seconds, 95), sum(p.cpu for p in changes) / len(seconds)


def run_n(n: int, env: dict[str, str], walk_pages, jitter: float) -> tuple[float, float]:
    """N learners on a fresh server: the table, and the widget changes' p95 and CPU seconds each."""
    with served_app(env) as server:
        warm = asyncio.run(warm_up(server, walk_pages))
        phases = asyncio.run(run_class(server, n, walk_pages, jitter))
        summary = report(n, phases, server, warm)
        time.sleep(2)  # the learners have closed their connections: Streamlit releases them
        released = SERVER_LOG.read_text().count("session ended:")
        print(f"  sessions released on disconnect (server log): {released} of {n + 1} (with the warm-up)")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, nargs="*", default=[1, 5, 10, 20], help="values of N")
    parser.add_argument(
        "--quick", action="store_true", help="two pages (one lesson, the lab) instead of four"
    )
    parser.add_argument(
        "--jitter", type=float, default=1.0, help="each learner's random pause before a step (s)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--env", nargs="*", default=[], metavar="NAME=VALUE", help="environment of the server (experiments)"
    )
    parser.add_argument(
        "--compare-defaults",
        action="store_true",
        help=f"each N also on a server with the libraries' defaults ({LIBRARY_DEFAULTS}=1, ui/server.py)",
    )
    args = parser.parse_args()
    env = dict(kv.split("=", 1) for kv in args.env)
    random.seed(args.seed)
    walk_pages = QUICK_WALK if args.quick else WALK
    load = os.getloadavg()
    print(
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start"
        f" (other work on the machine shares the CPUs); pages: {', '.join(p for p, _ in walk_pages)}"
        + (f"; server environment: {' '.join(args.env)}" if args.env else "")
    )
    for n in args.sessions:
        tuned = run_n(n, env, walk_pages, args.jitter)
        if args.compare_defaults:
            print(f"  … and on a server with the libraries' defaults ({LIBRARY_DEFAULTS}=1):")
            defaults = run_n(n, {**env, LIBRARY_DEFAULTS: "1"}, walk_pages, args.jitter)
            print(
                f"  widget change, tuned ÷ defaults: p95 {tuned[0]:.2f} / {defaults[0]:.2f} s = "
                f"{tuned[0] / defaults[0]:.2f}; CPU each {tuned[1]:.3f} / {defaults[1]:.3f} s = "
                f"{tuned[1] / defaults[1]:.2f}"
            )
    load = os.getloadavg()
    print(f"\nload average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end")


if __name__ == "__main__":
    main()
