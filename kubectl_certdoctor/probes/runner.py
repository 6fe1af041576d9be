"""Run a probe: a worker thread does the work, the caller iterates progress events.

``run()`` is a generator so the CLI can print lines as they come and the TUI
can feed a panel from a worker; it ends with the :class:`ProbeResult`. The
timeout and the cancel event are honoured by the probe (``ctx.check()``) and
by the pod runner, and closing the generator early cancels the run and waits
for the worker, so debug pods are deleted before control returns.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

from kubectl_certdoctor.errors import CertdoctorError
from kubectl_certdoctor.options import DEFAULT_PROBE_IMAGE
from kubectl_certdoctor.probes.base import (
    Cancelled,
    Params,
    ProbeContext,
    ProbeResult,
    ProbeSpec,
    Progress,
    Vantage,
    VantageResult,
    Verdict,
)
from kubectl_certdoctor.probes.podrunner import PodPlacement, install_cleanup_hooks, run_pod
from kubectl_certdoctor.probes.podscript import SCRIPTS, parse_message

_DONE = object()


def run(
    spec: ProbeSpec,
    params: Params,
    *,
    vantages: dict[Vantage, str],
    api_client: Any = None,
    placements: dict[Vantage, PodPlacement] | None = None,
    image: str = DEFAULT_PROBE_IMAGE,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> Generator[Progress | ProbeResult, None, None]:
    """Yield :class:`Progress` events, then exactly one :class:`ProbeResult`.

    A :class:`CertdoctorError` from the probe (bad or missing parameters) is
    re-raised here, in the caller's thread; every other failure is a result.

    ``vantages`` maps each requested vantage to '' (run it) or the reason it
    is greyed out; greyed vantages appear in the result as skipped.
    """
    cancel = cancel or threading.Event()
    if api_client is not None:
        install_cleanup_hooks()  # from the caller's thread: SIGTERM/SIGHUP need the main one
    events: queue.Queue[Any] = queue.Queue()
    limit = timeout if timeout is not None else spec.default_timeout
    start = time.monotonic()
    ctx = ProbeContext(
        probe_id=spec.id, params=params, vantages=dict(vantages), cancel=cancel,
        emit=events.put, api_client=api_client, placements=dict(placements or {}),
        image=image, deadline=start + limit if limit > 0 else 0.0,
    )
    box: dict[str, ProbeResult] = {}
    failure: list[CertdoctorError] = []
    timed_out = threading.Event()

    def work() -> None:
        try:
            box["result"] = spec.execute(ctx)
        except CertdoctorError as e:  # bad parameters: the caller reports it as usage
            failure.append(e)
        except Cancelled as e:
            why = f"timed out after {limit:.0f}s" if timed_out.is_set() else str(e)
            box["result"] = ProbeResult(spec.id, Verdict.INCONCLUSIVE, f"probe {why}",
                                        vantages=dict(ctx.partial))
        except Exception as e:  # a probe bug or an API error: a result, not a traceback
            box["result"] = ProbeResult(spec.id, Verdict.INCONCLUSIVE,
                                        f"probe failed: {e.__class__.__name__}: {one_line(e)}",
                                        vantages=dict(ctx.partial))
        finally:
            events.put(_DONE)

    worker = threading.Thread(target=work, name=f"probe-{spec.id}", daemon=True)
    worker.start()
    try:
        while True:
            try:
                item = events.get(timeout=0.2)
            except queue.Empty:
                if ctx.deadline and time.monotonic() > ctx.deadline + 5 and not cancel.is_set():
                    timed_out.set()
                    cancel.set()  # a probe stuck in a blocking call: nudge the pod runner
                continue
            if item is _DONE:
                break
            yield item
    finally:
        if worker.is_alive():
            cancel.set()
            worker.join(timeout=30)
    if failure:
        raise failure[0]
    result = box.get("result") or ProbeResult(spec.id, Verdict.INCONCLUSIVE, "probe cancelled")
    for v, reason in vantages.items():
        if reason and v.value not in result.vantages:
            result.vantages[v.value] = VantageResult(
                v.value, Verdict.INCONCLUSIVE, f"not run: {reason}", skipped=reason)
    result.params = params
    result.elapsed = time.monotonic() - start
    yield result


def run_to_result(spec: ProbeSpec, params: Params,
                  on_progress: Callable[[Progress], None] | None = None,
                  **kw: Any) -> ProbeResult:
    """Convenience: drive :func:`run` and return only the result."""
    result: ProbeResult | None = None
    for ev in run(spec, params, **kw):
        if isinstance(ev, ProbeResult):
            result = ev
        elif on_progress is not None:
            on_progress(ev)
    assert result is not None
    return result


def one_line(e: BaseException) -> str:
    """An API error as '403 Forbidden: <the server's message>', anything else as one line."""
    status, body = getattr(e, "status", None), getattr(e, "body", None)
    if status and body:
        try:
            msg = json.loads(body).get("message", "")
        except (ValueError, AttributeError):
            msg = ""
        return f"{status} {getattr(e, 'reason', '')}: {msg}".strip(": ")
    text = str(e).strip() or e.__class__.__name__
    return text.splitlines()[0][:300]


def start_pods(
    ctx: ProbeContext,
    env: dict[str, str],
    interpret: Callable[[Vantage, dict[str, Any]], VantageResult],
    script_id: str | None = None,
    env_for: Callable[[Vantage, PodPlacement], tuple[dict[str, str], list[str]]] | None = None,
) -> PodRuns:
    """Start this probe's script in every runnable pod vantage; each JSON result is
    interpreted as it arrives. ``join()`` waits for them.

    The pod vantages run at the same time, one thread each: a debug pod that cannot start
    (never scheduled, image not pulled) holds back only its own vantage, and each result
    is stored in ``ctx.partial`` — which streams it — the moment it is known.

    ``env_for(vantage, placement)`` adds per-vantage env (e.g. the proxy decision made
    with Go's rules from that pod's env) and evidence lines explaining it."""
    out: dict[str, VantageResult] = {}
    script = SCRIPTS[script_id or ctx.probe_id]
    env = {k: v for k, v in env.items() if v != ""}
    env.setdefault("TIMEOUT", str(max(1, int(ctx.params.timeout))))

    def one(v: Vantage) -> None:
        placement = ctx.placements.get(v)
        if placement is None or ctx.api_client is None:
            vr = VantageResult(v.value, Verdict.INCONCLUSIVE, "not run: no placement",
                               skipped="no placement")
            out[v.value] = ctx.partial[v.value] = vr
            return
        ctx.check()
        t0 = time.monotonic()
        extra_env, extra_ev = env_for(v, placement) if env_for is not None else ({}, [])
        venv = {**env, **{k: x for k, x in extra_env.items() if x != ""}}
        deadline_s = int(max(10, min(300, ctx.remaining(300) - 5)))

        def emit(m: str, _v: str = v.value) -> None:
            ctx.progress(m, _v)

        try:
            outcome = run_pod(
                ctx.api_client, placement, ctx.probe_id, v.value, script, venv, ctx.image,
                deadline_s, ctx.cancel, emit,
            )
        except Cancelled as e:
            if ctx.cancel.is_set():
                raise
            # the pod's own deadline (never scheduled, image slow to pull): this vantage only
            vr = VantageResult(v.value, Verdict.INCONCLUSIVE, str(e),
                               elapsed=time.monotonic() - t0)
            out[v.value] = ctx.partial[v.value] = vr
            return
        except Exception as e:
            vr = VantageResult(v.value, Verdict.INCONCLUSIVE, f"debug pod failed: {one_line(e)}",
                               elapsed=time.monotonic() - t0)
            out[v.value] = ctx.partial[v.value] = vr
            return
        if outcome.message:
            data = parse_message(outcome.message)
        else:
            data = {"error": f"pod ended without a result ({outcome.phase} {outcome.reason})"}
        if "error" in data:
            vr = VantageResult(v.value, Verdict.INCONCLUSIVE, str(data["error"]),
                               raw=outcome.message)
        else:
            vr = interpret(v, data)
            vr.raw = outcome.message
        if placement.origin:
            vr.evidence.append(f"pod placed like {placement.origin}")
        vr.evidence += placement.notes + extra_ev
        vr.data.setdefault("pod", f"{outcome.namespace}/{outcome.name}")
        vr.elapsed = time.monotonic() - t0
        out[v.value] = ctx.partial[v.value] = vr

    todo = [v for v in (Vantage.POD, Vantage.CERT_MANAGER) if ctx.runnable(v)]
    return PodRuns(ctx, todo, one, out)


class PodRuns:
    """The pod vantages of one probe, running (one thread each) until :meth:`join`."""

    def __init__(self, ctx: ProbeContext, todo: list[Vantage],
                 one: Callable[[Vantage], None], out: dict[str, VantageResult]) -> None:
        self.out = out
        self.errors: list[BaseException] = []

        def guarded(v: Vantage) -> None:
            try:
                one(v)
            except BaseException as e:  # re-raised in the probe's thread by join()
                self.errors.append(e)
                if not isinstance(e, Cancelled) and not ctx.cancel.is_set():
                    ctx.cancel.set()  # a bug in one vantage: stop the others, report it

        self.threads = [threading.Thread(target=guarded, args=(v,), daemon=True,
                                         name=f"probe-{ctx.probe_id}-{v}") for v in todo]
        for t in self.threads:
            t.start()

    def join(self) -> dict[str, VantageResult]:
        for t in self.threads:
            t.join()
        if self.errors:
            raise self.errors[0]
        return self.out


def in_pods(
    ctx: ProbeContext,
    env: dict[str, str],
    interpret: Callable[[Vantage, dict[str, Any]], VantageResult],
    script_id: str | None = None,
    env_for: Callable[[Vantage, PodPlacement], tuple[dict[str, str], list[str]]] | None = None,
) -> dict[str, VantageResult]:
    """Run this probe's script in every runnable pod vantage (side by side) and interpret
    each JSON result; returns when every pod vantage has finished."""
    return start_pods(ctx, env, interpret, script_id, env_for).join()


def alongside_pods(
    ctx: ProbeContext,
    local: Callable[[], None],
    env: dict[str, str],
    interpret: Callable[[Vantage, dict[str, Any]], VantageResult],
    script_id: str | None = None,
    env_for: Callable[[Vantage, PodPlacement], tuple[dict[str, str], list[str]]] | None = None,
) -> dict[str, VantageResult]:
    """``in_pods`` with the workstation's check (``local``, which stores its own result in
    ``ctx.partial``) run meanwhile: a slow or blocked local request no longer holds the
    debug pods back, nor a pod that cannot start the local verdict. If ``local`` fails,
    the pods are cancelled (and deleted) before the error goes on."""
    runs = start_pods(ctx, env, interpret, script_id, env_for)
    try:
        local()
    except BaseException:
        ctx.cancel.set()
        for t in runs.threads:
            t.join()
        raise
    return runs.join()
