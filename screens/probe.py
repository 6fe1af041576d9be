"""The probe screen: one probe, its vantage points side by side, streaming into columns.

Design notes
- The seed failures are the cases where the workstation and the cluster disagree, so
  the three vantage points (local | pod | as cert-manager) are always shown next to each
  other; a vantage that cannot run is greyed with the framework's reason (a bundle or
  the demo: probes need a live cluster; ``--read-only``: no debug pods; RBAC: the
  SelfSubjectAccessReview's answer).
- Everything — planning (one SSAR per namespace), the leftover sweep, the run — happens
  in one thread worker (group ``probe-run``) that drives ``runner.run`` and posts each
  event to the screen as a Textual message: ``Progressed`` (a line: the pod's phase and
  reasons as they arrive), ``VantageFinished`` (one vantage's result, the moment it is
  known: its column shows the verdict while the others still run — the vantages run side
  by side, so a pod that cannot start holds back only its own column) and
  ``ProbeFinished`` (the combined verdict).
- ``esc`` on a running probe sets the cancel event and leaves at once; the worker keeps
  draining the runner, whose ``finally`` cancels the probe and waits for it, so the
  debug pod is deleted by the framework even though the screen is gone.
- ``c`` copies the result as JSON to the clipboard (OSC 52, via ``App.copy_to_clipboard``)
  and also writes it under the state dir, because many terminals ignore OSC 52.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Static

from kubectl_certdoctor.errors import CertdoctorError
from kubectl_certdoctor.objects import Ref
from kubectl_certdoctor.probes.base import (
    ALL_VANTAGES,
    ProbeResult,
    Progress,
    Vantage,
    VantageDone,
    VantageResult,
)
from kubectl_certdoctor.widgets.header import StatusHeader
from kubectl_certdoctor.widgets.palette import sty
from kubectl_certdoctor.widgets.probeview import (
    SPINNER,
    log_view,
    raw_view,
    vantage_panel,
    verdict_view,
)

from .base import DoctorScreen

if TYPE_CHECKING:
    pass

OFFLINE_REASON = "probes need a live cluster (this is a bundle/demo)"

_swept = False


class ProbeScreen(DoctorScreen[None]):
    """One probe on one object. ``r`` re-run, ``c`` copy, ``esc`` cancel and back."""

    DEFAULT_CSS = """
    #probe-status { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    #probe-vantages { height: auto; max-height: 50%; }
    .vantage { width: 1fr; height: auto; border: round $primary 50%; padding: 0 1; }
    .vantage.greyed { border: round $panel; }
    #probe-scroll { height: 1fr; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Cancel/Back", id="probe.back"),
        Binding("r", "rerun", "Re-run", id="probe.rerun"),
        Binding("c", "copy", "Copy result", id="probe.copy"),
        Binding("question_mark", "app.help", "Help", id="probe.help"),
    ]

    class Progressed(Message):
        """A progress line from the run (a vantage's pod phase, a request made)."""

        def __init__(self, event: Progress, run: threading.Event) -> None:
            super().__init__()
            self.event = event
            #: the run it belongs to (its cancel event): a re-run ignores older messages
            self.run = run

    class VantageFinished(Message):
        """One vantage has its result; the others may still be running."""

        def __init__(self, result: VantageResult, run: threading.Event) -> None:
            super().__init__()
            self.result = result
            self.run = run

    class ProbeFinished(Message):
        """Every vantage finished: the combined result."""

        def __init__(self, result: ProbeResult, run: threading.Event) -> None:
            super().__init__()
            self.result = result
            self.run = run

    def __init__(self, probe_id: str, ref: Ref | None, *, timeout: float | None = None) -> None:
        super().__init__()
        self.probe_id = probe_id
        self.ref = ref
        self.timeout = timeout
        #: vantage → '' (runs) or why it is greyed out
        self.plan: dict[Vantage, str] = {}
        self.progress: list[Progress] = []
        #: vantage → its result, as each one finishes (before the combined ``result``)
        self.vantage_results: dict[str, VantageResult] = {}
        self.result: ProbeResult | None = None
        self.error = ""
        self.running = False
        #: where ``c`` last wrote the result
        self.copied_path = ""
        #: set when the current run's worker has finished (pods deleted)
        self.finished = threading.Event()
        self._cancel = threading.Event()
        self._frame = 0
        #: "live" (run now), "offline" (computed from the bundle's objects, no network) or
        #: "recorded" (the demo scenario's recorded result: nothing ran)
        self.mode = "live"
        self.recorded_from = ""

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield Static(id="probe-status")
        with Horizontal(id="probe-vantages"):
            for v in ALL_VANTAGES:
                yield Static(id=f"vantage-{v.value}", classes="vantage")
        with VerticalScroll(id="probe-scroll"):
            yield Static(id="probe-verdict")
            yield Static(id="probe-log")
            yield Static(id="probe-raw")
        yield Footer()

    def on_mount(self) -> None:
        self.cd_app.refresh_header()
        self.set_interval(0.1, self._spin)
        self._start()

    def on_unmount(self) -> None:
        self._cancel.set()

    # -- running -------------------------------------------------------------------------

    def _start(self) -> None:
        self._cancel = threading.Event()
        self.finished = threading.Event()
        self.plan, self.progress, self.result, self.error = {}, [], None, ""
        self.vantage_results = {}
        self.mode, self.recorded_from = "live", ""
        self.running = True
        for wid in ("probe-verdict", "probe-log", "probe-raw"):
            self.query_one(f"#{wid}", Static).update("")
        self._status()
        self._render_vantages()
        self._run(self._cancel, self.finished)

    @work(thread=True, group="probe-run", exit_on_error=False, description="run probe")
    def _run(self, cancel: threading.Event, finished: threading.Event) -> None:
        try:
            self._drive(cancel)
        except CertdoctorError as e:
            self._ui(self._failed, str(e))
        except Exception as e:  # shown in the screen, never a crash of the TUI
            self._ui(self._failed, f"probe failed: {type(e).__name__}: {e}")
        finally:
            finished.set()

    def _drive(self, cancel: threading.Event) -> None:
        from kubectl_certdoctor.probes.plan import prepare
        from kubectl_certdoctor.probes.registry import PROBES
        from kubectl_certdoctor.probes.runner import run

        spec = PROBES.get(self.probe_id)
        if spec is None:
            raise CertdoctorError(f"unknown probe {self.probe_id!r}")
        app = self.cd_app
        src = app.source
        if not src.live:
            self._offline(spec, src)
            return
        read_only = bool(app.opts.read_only or src.read_only)
        opts = dataclasses.replace(app.opts, read_only=read_only, from_file=None, demo=None)
        conn = getattr(src, "conn", None)
        api_client = conn.api_client if conn is not None else None
        params, plan, placements = prepare(spec, src.snapshot(), self.ref, opts=opts,
                                           api_client=api_client, requested=ALL_VANTAGES)
        self._ui(self._planned, plan)
        if not any(not why for why in plan.values()):
            self._ui(self._done, None)
            return
        pods = [(v.value, placements[v].namespace) for v in placements if not plan.get(v)]
        if pods and not app.pods_confirmed:
            ok = self._ask_pods(pods, cancel)
            if not ok:
                plan = {v: (why or ("debug pod not confirmed: nothing was created"
                                    if v in placements else "")) for v, why in plan.items()}
                placements = {}
                self._ui(self._planned, plan)
                if not any(not why for why in plan.values()):
                    self._ui(self._done, None)
                    return
        if placements and api_client is not None:
            _sweep_once(api_client)
        for ev in run(spec, params, vantages=plan, api_client=api_client,
                      placements=placements, image=opts.probe_image, timeout=self.timeout,
                      cancel=cancel):
            if isinstance(ev, ProbeResult):
                self.post_message(self.ProbeFinished(ev, cancel))
            elif isinstance(ev, VantageDone) and ev.result is not None:
                self.post_message(self.VantageFinished(ev.result, cancel))
            else:
                self.post_message(self.Progressed(ev, cancel))

    def on_probe_screen_progressed(self, message: ProbeScreen.Progressed) -> None:
        if message.run is self._cancel:
            self._progressed(message.event)

    def on_probe_screen_vantage_finished(self, message: ProbeScreen.VantageFinished) -> None:
        if message.run is self._cancel:
            self.vantage_results[message.result.vantage] = message.result
            self._status()
            self._render_vantages()

    def on_probe_screen_probe_finished(self, message: ProbeScreen.ProbeFinished) -> None:
        if message.run is self._cancel:
            self._done(message.result)

    def _offline(self, spec: Any, src: Any) -> None:
        """A bundle or the demo: probes that only read objects (``account``, ``no-proxy``)
        run for real on the snapshot; for the demo, a network probe shows the result
        recorded with its scenario, marked RECORDED; anything else says why it cannot run."""
        from kubectl_certdoctor.probes.base import ProbeResult, VantageResult, Verdict
        from kubectl_certdoctor.probes.runner import run
        from kubectl_certdoctor.scenarios import OFFLINE_PROBES, recorded

        if self.probe_id in OFFLINE_PROBES:
            plan = {v: ("" if v in spec.vantages else
                        f"{spec.id} reads the objects only: the local evaluation is the whole "
                        "answer") for v in ALL_VANTAGES}
            self._ui(self._planned, plan)
            params = spec.params_from(src.snapshot(), self.ref)
            for ev in run(spec, params, vantages={v: "" for v in spec.vantages},
                          api_client=None, placements={}):
                if isinstance(ev, ProbeResult):
                    self.mode = "offline"
                    self._ui(self._done, ev)
                else:
                    self._ui(self._progressed, ev)
            return
        rec = recorded(self.probe_id, self.ref.namespace, self.ref.name) \
            if getattr(src, "demo", None) is not None and self.ref is not None else None
        if rec is None:
            self._ui(self._planned, dict.fromkeys(ALL_VANTAGES, OFFLINE_REASON))
            self._ui(self._done, None)
            return
        scen, data = rec
        vants = {str(k): dict(v) for k, v in (data.get("vantages") or {}).items()}
        plan = {v: ("" if v.value in vants else "not part of the recording")
                for v in ALL_VANTAGES}
        result = ProbeResult(
            self.probe_id, Verdict(str(data.get("verdict", "inconclusive"))),
            str(data.get("summary", "")), [str(e) for e in data.get("evidence") or []],
            vantages={k: VantageResult(k, Verdict(str(v.get("verdict", "inconclusive"))),
                                       str(v.get("summary", ""))) for k, v in vants.items()},
            confirms=[str(c) for c in data.get("confirms") or []])
        self.mode = "recorded"
        self.recorded_from = scen
        self._ui(self._planned, plan)
        self._ui(self._done, result)

    def _ask_pods(self, pods: list[tuple[str, str]], cancel: threading.Event) -> bool:
        """From the worker: ask once per session before the first debug pod (a modal on
        the UI thread), and wait for the answer (esc on the probe screen cancels)."""
        answer: list[bool] = []
        done = threading.Event()

        def reply(ok: bool | None) -> None:
            if ok:
                self.cd_app.pods_confirmed = True
            answer.append(bool(ok))
            done.set()

        def ask() -> None:
            from .confirm import PodConfirmScreen

            self.app.push_screen(PodConfirmScreen(self.probe_id, self.cd_app.source.context,
                                                  pods), reply)

        self._ui(ask)
        while not done.wait(0.1):
            if cancel.is_set() or not self.is_attached:
                return False
        return bool(answer and answer[0])

    def _planned(self, plan: dict[Vantage, str]) -> None:
        self.plan = plan
        self._render_vantages()

    def _progressed(self, ev: Progress) -> None:
        self.progress.append(ev)
        self.query_one("#probe-log", Static).update(log_view(self.progress))
        self._status()
        self._render_vantages()

    def _done(self, result: ProbeResult | None) -> None:
        self.running = False
        self.result = result
        if result is not None:
            view = verdict_view(result)
            if self.mode == "recorded":
                view = Text.assemble(("RECORDED ", "bold"), (f"(demo scenario "
                                     f"{self.recorded_from}; not run now)\n", "dim"), view)
            self.query_one("#probe-verdict", Static).update(view)
            self.query_one("#probe-raw", Static).update(raw_view(result))
        self._status()
        self._render_vantages()

    def _failed(self, message: str) -> None:
        self.running = False
        self.error = message
        self._status()
        self._render_vantages()

    # -- rendering -----------------------------------------------------------------------

    def _spin(self) -> None:
        if self.running:
            self._frame += 1
            self._status()
            self._render_vantages()

    def _status(self) -> None:
        target = f" on {self.ref}" if self.ref is not None else ""
        line = Text()
        if self.running:
            line.append(f"{SPINNER[self._frame % len(SPINNER)]} ", style="bold")
            line.append(f"probe {self.probe_id}{target} running")
            runs = [v for v in ALL_VANTAGES if self.plan and not self.plan.get(v)]
            done = [v for v in runs if v.value in self.vantage_results]
            if done:
                line.append(f" ({len(done)} of {len(runs)} vantages done)")
            if self.progress:
                line.append(f" — {self.progress[-1]}", style="dim")
        elif self.error:
            line.append(self.error, style=sty("bold red"))
        elif self.result is not None and self.mode == "recorded":
            line.append(" RECORDED ", style="bold reverse")
            line.append(f" probe {self.probe_id}{target}: {self.result.verdict.value} — "
                        f"recorded with demo scenario {self.recorded_from} (from its field "
                        "report); nothing was run now", style="bold")
        elif self.result is not None and self.mode == "offline":
            line.append(" OFFLINE ", style="bold reverse")
            line.append(f" probe {self.probe_id}{target}: {self.result.verdict.value} — "
                        "computed from the objects in this snapshot (no network)",
                        style="bold")
        elif self.result is not None:
            line.append(f"probe {self.probe_id}{target}: {self.result.verdict.value}",
                        style="bold")
            line.append("   r re-run · c copy · esc back", style="dim")
        else:
            whys = sorted({w for w in self.plan.values() if w})
            line.append(f"probe {self.probe_id}{target} not run: " + "; ".join(whys),
                        style=sty("bold yellow"))
        self.query_one("#probe-status", Static).update(line)

    def _render_vantages(self) -> None:
        for v in ALL_VANTAGES:
            reason = self.plan.get(v, "")
            vr = self.result.vantages.get(v.value) if self.result is not None else None
            vr = vr or self.vantage_results.get(v.value)
            mine = [p for p in self.progress if p.vantage in ("", v.value)] \
                if v is not Vantage.LOCAL else [p for p in self.progress
                                                if p.vantage in ("", "local")]
            w = self.query_one(f"#vantage-{v.value}", Static)
            w.set_class(bool(reason), "greyed")
            w.update(vantage_panel(v.value, reason, mine, vr,
                                   running=self.running and not reason and bool(self.plan),
                                   frame=self._frame))

    # -- actions -------------------------------------------------------------------------

    def action_rerun(self) -> None:
        if self.running:
            self.notify("the probe is still running (esc cancels it)", severity="warning")
            return
        self._start()

    def action_copy(self) -> None:
        if self.result is None:
            self.notify("no result to copy yet", severity="warning")
            return
        data = json.dumps(self.result.to_json(), indent=2, sort_keys=False)
        self.app.copy_to_clipboard(data)
        self._write_copy(data)

    @work(thread=True, group="probe-copy", exit_on_error=False, description="save result")
    def _write_copy(self, data: str) -> None:
        from kubectl_certdoctor.fixes.audit import state_dir

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = state_dir() / "probes" / f"{self.probe_id}-{stamp}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data + "\n", encoding="utf-8")
        except OSError as e:
            self._ui(self._copy_failed, f"copied to the clipboard; could not write {path}: {e}")
            return
        self._ui(self._copied, str(path))

    def _copy_failed(self, message: str) -> None:
        self.notify(message, severity="warning")

    def _copied(self, path: str) -> None:
        self.copied_path = path
        self.notify(f"copied to the clipboard and saved to {path}", title="probe result",
                    timeout=8)

    def action_back(self) -> None:
        if self.running:
            self._cancel.set()
            self.notify("probe cancelled; any debug pod is being deleted", timeout=4)
        self.dismiss(None)


def _sweep_once(api_client: Any) -> None:
    """Delete debug pods left over by an earlier crash, once per process (worker thread)."""
    global _swept
    if _swept:
        return
    _swept = True
    from kubectl_certdoctor.probes.podrunner import sweep_leftovers

    sweep_leftovers(api_client)
