"""How the fix screen shows a plan and what the server said, as Rich renderables.

Pure functions over ``FixPlan`` / ``RunResult`` / ``VerifyResult`` so the fix
screen and its tests share one rendering and nothing here can do IO. Anything
that came from the cluster goes through ``Text`` (never markup): a ``[...]`` in
an object must not vanish or raise.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text

from kubectl_certdoctor.fixes.execute import RbacVerdict, RunResult
from kubectl_certdoctor.fixes.model import FixPlan
from kubectl_certdoctor.fixes.verify import VerifyResult
from kubectl_certdoctor.widgets.palette import sty, syntax_theme

METHOD_STYLE = {"DELETE": "bold red", "PATCH": "bold yellow", "PUT": "bold yellow",
                "POST": sty("bold green")}


def plan_view(plan: FixPlan) -> RenderableType:
    """Title, target, the exact API calls, warnings, notes and the coloured diff."""
    parts: list[RenderableType] = [
        Text.assemble(("fix ", "dim"), (plan.fix_id, "bold"), ("  ", ""), plan.title),
        Text.assemble(("target: ", "dim"), str(plan.target)),
    ]
    if plan.noop_reason:
        parts.append(Text.assemble(("nothing to do: ", sty("bold yellow")), plan.noop_reason))
    if plan.suggest:
        label = "try instead: " if plan.noop_reason else "see also: "
        parts.append(Text.assemble((label, "bold"), ", ".join(plan.suggest)))
    if plan.calls:
        parts.append(Text("API calls:", style="bold"))
        for i, c in enumerate(plan.calls, 1):
            line = Text(f"  {i}. ")
            line.append(c.method, style=METHOD_STYLE.get(c.method, "bold"))
            line.append(f" {c.path}")
            if c.description:
                line.append(f"  # {c.description}", style="dim")
            parts.append(line)
    for w in plan.warnings:
        parts.append(Text.assemble(("warning: ", sty("bold yellow")), w))
    for n in plan.notes:
        parts.append(Text(n))
    diff = plan.diff_text()
    if diff:
        parts.append(Text("Diff:", style="bold"))
        parts.append(Syntax(diff, "diff", theme=syntax_theme(), word_wrap=True))
    return Group(*parts)


def rbac_view(verdict: RbacVerdict) -> Text:
    if verdict.allowed:
        what = ", ".join(ck.describe() for ck in verdict.checks) or verdict.reason
        return Text.assemble(("RBAC: allowed ", sty("bold green")), (f"({what})", "dim"))
    return Text.assemble(("RBAC: not allowed — ", sty("bold red")), verdict.reason,
                         ("\nnothing was sent: the fix is greyed out", sty("bright_black")))


def run_view(title: str, result: RunResult) -> Text:
    """The dry run's or the apply's per-call lines, green when every call passed."""
    out = Text()
    out.append(f"{title}: ", style="bold")
    out.append("ok" if result.ok else ("CONFLICT" if result.conflict else "FAILED"),
               style=sty("bold green") if result.ok else sty("bold red"))
    for line in result.lines():
        out.append("\n  ")
        out.append(line, style="" if not line.startswith(("FAILED", "CONFLICT")) else sty("red"))
    return out


def verify_view(result: VerifyResult, *, done: bool) -> Text:
    """Each expected effect: seen (green) or still waiting / not seen."""
    out = Text()
    out.append("Verify: ", style="bold")
    if not result.observations:
        out.append("nothing to watch for")
        return out
    out.append("done" if done else "watching…", style="bold" if done else "italic")
    for o in result.observations:
        out.append("\n  ")
        if o.met:
            out.append("seen: ", style=sty("bold green"))
        else:
            out.append("NOT seen: " if done else "waiting: ", style=sty("bold yellow"))
        out.append(f"{o.expectation.description} — {o.detail}")
    return out
