"""The fix screen: preview → RBAC check → server-side dry run → confirm → apply → verify.

Design notes
- The order is the CLI's (``commands/fix.py``) and is fixed: the preview (the exact API
  calls and a coloured unified diff) is shown first; the RBAC pre-check and the dry run
  (``dryRun=All``) run BEFORE the user is asked anything; ``a`` (apply) exists only when
  both passed, and still goes through the confirmation modal.
- Live plans are made from fresh direct reads (``read_objects``), not the store's
  snapshot: the resourceVersions the calls are conditioned on are then current.
- Every request runs in a thread worker with its own ``group``; the connection applies
  its request timeout to each call. Results reach the UI through ``call_from_thread``
  and are dropped once the screen is gone.
- A bundle gets the preview only, with the reason; ``--read-only`` never reaches here
  (the detail screen hides fixes) and would be refused before any request.
- The demo goes through the same steps with the cluster parts replaced: no RBAC check, no
  dry run (said so), the same confirmation, then the plan's diffs are applied to the
  demo's in-memory objects (``StaticSource.simulate``): the tree and findings change as
  after a real apply. Every step of it is marked SIMULATED; nothing is audited.
- The write is audited as soon as ``apply`` returns (so a crash while verifying cannot
  lose it); verification then polls for the expected effects and streams what it saw.
- Parameters a fix declares as ``choices`` (e.g. the IngressClass for
  ``set-solver-ingress-class``) are offered as pick lists: ``p`` chooses them, and when the
  fix cannot pick one by itself the list opens before anything is planned.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from kubectl_certdoctor.errors import CertdoctorError
from kubectl_certdoctor.fixes.execute import RbacVerdict, RunResult
from kubectl_certdoctor.fixes.model import Choice, ConflictError, FixPlan
from kubectl_certdoctor.fixes.verify import VerifyResult
from kubectl_certdoctor.objects import Ref
from kubectl_certdoctor.widgets.fixview import plan_view, rbac_view, run_view, verify_view
from kubectl_certdoctor.widgets.header import StatusHeader
from kubectl_certdoctor.widgets.palette import sty

from .base import DoctorScreen

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection
    from kubectl_certdoctor.fixes.workflow import FixRun

OFFLINE_REASON = "fixes need a live cluster: this is a preview of a bundle/demo, nothing is sent"
SIMULATED_READY = ("SIMULATED — the demo: press a to apply this fix to its in-memory objects "
                   "(you will be asked to confirm; nothing is sent to any cluster)")
NO_CONNECTION_REASON = "no cluster connection: preview only"
READ_ONLY_REASON = "--read-only is in force: fixes are disabled"


class FixScreen(DoctorScreen[None]):
    """One fix for one finding's object. ``esc`` goes back (and stops verifying)."""

    DEFAULT_CSS = """
    #fix-scroll { height: 1fr; padding: 0 1; }
    #fix-status { height: auto; padding: 0 1; background: $boost; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="fix.back"),
        Binding("a", "apply", "Apply…", id="fix.apply"),
        Binding("r", "replan", "Re-plan", id="fix.replan"),
        Binding("p", "params", "Parameters…", id="fix.params"),
        Binding("question_mark", "app.help", "Help", id="fix.help"),
    ]

    def __init__(self, fix_id: str, ref: Ref, *, verify_timeout: float = 30.0) -> None:
        super().__init__()
        self.fix_id = fix_id
        #: the object the finding is about; the fix may act on another (its Certificate…)
        self.ref = ref
        self.verify_timeout = verify_timeout
        self.plan: FixPlan | None = None
        self.rbac: RbacVerdict | None = None
        self.dry: RunResult | None = None
        #: the workflow of the plan on screen (fixes/workflow.py), once it is checked
        self.run: FixRun | None = None
        self.applied: RunResult | None = None
        self.verified: VerifyResult | None = None
        #: why apply is not offered ('' when it is, or not decided yet)
        self.blocked = ""
        #: preparing | ready | blocked | confirming | applying | verifying | done | failed
        self.phase = "preparing"
        self.audit_file = ""
        #: the demo: apply changes its in-memory objects only, and says so everywhere
        self.simulated = False
        #: parameters chosen in pick lists (the planner's own defaults otherwise)
        self.params: dict[str, str] = {}
        self.choices: list[Choice] = []
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield Static(id="fix-status")
        with VerticalScroll(id="fix-scroll"):
            yield Static(id="fix-preview")
            yield Static(id="fix-rbac")
            yield Static(id="fix-dry")
            yield Static(id="fix-apply")
            yield Static(id="fix-verify")
            yield Static(id="fix-audit")
        yield Footer()

    def on_mount(self) -> None:
        self.cd_app.refresh_header()
        self._status(f"planning fix {self.fix_id} for {self.ref}…")
        self._prepare()

    def on_unmount(self) -> None:
        self._stop.set()

    # -- helpers -------------------------------------------------------------------------

    def _status(self, message: str, style: str = "") -> None:
        self.query_one("#fix-status", Static).update(Text(message, style=style))

    def _show(self, wid: str, renderable: Any) -> None:
        self.query_one(f"#{wid}", Static).update(renderable)

    def _conn(self) -> Connection | None:
        return getattr(self.cd_app.source, "conn", None)

    def _read_only(self) -> bool:
        return bool(self.cd_app.opts.read_only or
                    (self.cd_app.source.live and self.cd_app.source.read_only))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``a`` is shown only when the dry run passed and nothing blocks the fix."""
        if action == "apply":
            return self.phase == "ready"
        if action == "params":
            return bool(self.choices) and self.phase not in ("applying", "confirming",
                                                             "verifying")
        return True

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self.refresh_bindings()

    # -- prepare: plan, RBAC, dry run ----------------------------------------------------

    @work(thread=True, group="fix-prepare", exclusive=True, exit_on_error=False,
          description="plan fix, RBAC check, dry run")
    def _prepare(self) -> None:
        from kubectl_certdoctor.fixes.registry import FIXES
        from kubectl_certdoctor.fixes.targets import resolve

        spec = FIXES.get(self.fix_id)
        if spec is None:
            self._ui(self._fail, f"unknown fix {self.fix_id!r}")
            return
        src = self.cd_app.source
        conn = self._conn() if src.live else None
        try:
            objs = src.snapshot()
            target = resolve(spec.id, objs, self.ref)
            if conn is not None:
                from kubectl_certdoctor.fixes.reads import read_objects

                ns = target.namespace or self.ref.namespace or src.namespace or "default"
                objs = read_objects(conn, spec, target, ns)
            choices = spec.choices(objs, target) if spec.choices is not None else []
            self._ui(self._set_choices, choices)
            missing = [c for c in choices if not c.default and c.param not in self.params]
            if missing:
                self._ui(self._ask, missing, True)
                return
            plan = spec.plan(objs, target, self.params)
        except CertdoctorError as e:
            self._ui(self._fail, str(e))
            return
        self._ui(self._show_plan, plan)
        if not src.live and getattr(src, "simulates_fixes", False):
            if not plan.calls:
                self._ui(self._block, plan.noop_reason or
                         "this fix changes nothing (guidance only)")
            else:
                self._ui(self._simulated_ready)
            return
        if not src.live:
            self._ui(self._block, OFFLINE_REASON)
            return
        if self._read_only():
            self._ui(self._block, READ_ONLY_REASON)
            return
        if conn is None:
            self._ui(self._block, NO_CONNECTION_REASON)
            return
        if not plan.calls:
            self._ui(self._block, plan.noop_reason or "this fix changes nothing (guidance only)")
            return
        from kubectl_certdoctor.fixes.workflow import FixRun

        run = self.run = FixRun(conn, plan, read_only=self._read_only())
        try:
            run.check()  # audits a refusal itself
        except CertdoctorError as e:
            self._ui(self._fail, str(e))
            return
        if run.rbac is not None:
            self._ui(self._show_rbac, run.rbac)
        if run.dry is not None:
            self._ui(self._show_dry, run.dry)

    # -- parameters ----------------------------------------------------------------------

    def _set_choices(self, choices: list[Choice]) -> None:
        self.choices = choices
        self.refresh_bindings()

    def action_params(self) -> None:
        if self.check_action("params", ()):
            self._ask(list(self.choices), False)

    def _ask(self, pending: list[Choice], needed: bool) -> None:
        """One pick list per parameter, in turn; then plan again with what was chosen."""
        from .picker import PickScreen

        if not pending:
            self.action_replan()
            return
        c, rest = pending[0], pending[1:]
        if needed:
            self._status(f"choose {c.param.replace('_', ' ')}: the fix cannot tell by itself",
                         sty("bold yellow"))

        def chosen(value: str | None) -> None:
            if value is None:  # esc: keep what there was
                if needed:
                    self._block(f"no {c.param.replace('_', ' ')} chosen: press p to choose")
                return
            self.params[c.param] = value
            why = dict(c.warnings).get(value)
            if why:
                self.notify(f"{c.param.replace('_', ' ')} {value}: {why}", severity="warning",
                            timeout=8)
            self._ask(rest, needed)

        current = self.params.get(c.param, "")
        self.app.push_screen(PickScreen(c.title, list(c.options), current,
                                        recommended=c.default, warnings=dict(c.warnings)),
                             chosen)

    def _show_plan(self, plan: FixPlan) -> None:
        self.plan = plan
        self._show("fix-preview", plan_view(plan))
        self._status("preview ready; checking RBAC and running a server-side dry run…")

    def _block(self, reason: str) -> None:
        self.blocked = reason
        self._set_phase("blocked")
        self._status(f"preview only: {reason}", sty("bold yellow"))

    def _fail(self, message: str) -> None:
        self.blocked = message
        self._set_phase("failed")
        self._status(message, sty("bold red"))

    def _show_rbac(self, verdict: RbacVerdict) -> None:
        self.rbac = verdict
        self._show("fix-rbac", rbac_view(verdict))
        if not verdict.allowed:
            self._block(f"not allowed: {verdict.reason}")

    def _show_dry(self, dry: RunResult) -> None:
        self.dry = dry
        self._show("fix-dry", run_view("Server-side dry run (dryRun=All)", dry))
        if not dry.ok:
            self._block("the dry run failed: nothing was changed" if not dry.conflict else
                        "the object changed since it was read: press r to plan again")
            return
        self.blocked = ""
        self._set_phase("ready")
        self._status("dry run passed: press a to apply (you will be asked to confirm)",
                     sty("bold green"))

    def _simulated_ready(self) -> None:
        """The demo: the cluster steps are named as skipped, apply is offered."""
        self.simulated = True
        skipped = Text.assemble(("SIMULATED", sty("bold magenta")),
                                " — no cluster: the RBAC check and the server-side dry run "
                                "are skipped")
        self._show("fix-rbac", skipped)
        self.blocked = ""
        self._set_phase("ready")
        self._status(SIMULATED_READY, sty("bold magenta"))

    # -- apply and verify ----------------------------------------------------------------

    def action_apply(self) -> None:
        if self.phase != "ready" or self.plan is None:
            return
        from .confirm import ConfirmScreen

        self._set_phase("confirming")
        self.app.push_screen(ConfirmScreen(self.plan, simulated=self.simulated),
                             self._confirmed)

    def _confirmed(self, ok: bool | None) -> None:
        if not ok:
            self._set_phase("ready")
            self._status("cancelled: nothing was changed", sty("bold yellow"))
            if not self.simulated:
                self._record_cancel()
            return
        self._set_phase("applying")
        self._status("SIMULATED: applying to the demo's objects…" if self.simulated
                     else "applying…")
        if self.simulated:
            self._simulate()
        else:
            self._apply()

    @work(thread=True, group="fix-apply", exclusive=True, exit_on_error=False,
          description="simulated apply on the demo")
    def _simulate(self) -> None:
        """The demo's apply: the source changes its in-memory objects (never IO)."""
        plan = self.plan
        simulate = getattr(self.cd_app.source, "simulate", None)
        if plan is None or simulate is None:
            return
        try:
            lines = simulate(plan)
        except CertdoctorError as e:
            self._ui(self._fail, str(e))
            return
        self._ui(self._show_simulated, lines)

    def _show_simulated(self, lines: list[str]) -> None:
        from kubectl_certdoctor.fixes.simulate import SIMULATED_NOTE

        out = Text()
        out.append("SIMULATED apply", style=sty("bold magenta"))
        out.append(f" ({len(lines)} change(s) to the demo's in-memory objects):", style="bold")
        for ln in lines:
            out.append("\n  simulated: ", style=sty("magenta"))
            out.append(ln)
        out.append("\n  cert-manager's own reaction (a new CertificateRequest, an Order…) is "
                   "not simulated; r on the tree reloads the scenario as it was", style="dim")
        self._show("fix-apply", out)
        self._set_phase("done")
        self._status(SIMULATED_NOTE + " — esc shows the changed tree", sty("bold magenta"))

    @work(thread=True, group="fix-audit", exit_on_error=False, description="audit cancel")
    def _record_cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()

    @work(thread=True, group="fix-apply", exclusive=True, exit_on_error=False,
          description="apply fix and verify")
    def _apply(self) -> None:
        run = self.run
        if run is None:
            return
        try:
            applied = run.apply()  # audited the moment it returns, before verifying
        except ConflictError as e:
            self._ui(self._fail, f"{e} — press r to plan again")
            return
        except CertdoctorError as e:
            self._ui(self._fail, str(e))
            return
        self._ui(self._show_applied, applied, run.audit_file)
        if applied.ok:
            run.verify(self.verify_timeout, self._stop,
                       lambda seen, done: self._ui(self._show_verify, seen, done))

    def _show_applied(self, applied: RunResult, path: str) -> None:
        self.applied = applied
        self.audit_file = path
        self._show("fix-apply", run_view("Applied", applied))
        self._show("fix-audit", Text.assemble(("Audit log: ", "bold"), path))
        if applied.ok:
            self._set_phase("verifying")
            self._status("applied; watching for the expected effect…", sty("bold green"))
        else:
            self._fail("the fix failed part-way; see the calls above")

    def _show_verify(self, seen: VerifyResult, done: bool) -> None:
        self.verified = seen
        self._show("fix-verify", verify_view(seen, done=done))
        if done:
            self._set_phase("done")
            self._status("verified: every expected effect was seen" if seen.ok else
                         "applied; not every expected effect was seen yet (see Verify)",
                         sty("bold green") if seen.ok else sty("bold yellow"))

    # -- navigation ----------------------------------------------------------------------

    def action_replan(self) -> None:
        if self.phase in ("applying", "confirming", "verifying"):
            return
        for wid in ("fix-rbac", "fix-dry", "fix-apply", "fix-verify", "fix-audit"):
            self._show(wid, "")
        self.plan = self.rbac = self.dry = self.run = None
        self._set_phase("preparing")
        self._status(f"planning fix {self.fix_id} for {self.ref}…")
        self._prepare()

    def action_back(self) -> None:
        self._stop.set()
        self.dismiss(None)
