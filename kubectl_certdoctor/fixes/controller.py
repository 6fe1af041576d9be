"""Fixes to the cert-manager controller Deployment: NO_PROXY and DNS-01 nameservers.

Both change the pod template, so the Deployment rolls out and cert-manager
restarts: the plan says so. Patches touch only the one env value or the args
list, each guarded by a ``test`` of the value read.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from kubectl_certdoctor.fixes.model import (
    Expectation,
    FixError,
    FixParams,
    FixPlan,
    FixSpec,
    ObjectDiff,
    apply_json_patch,
    json_patch_call,
    need,
)
from kubectl_certdoctor.noproxy import bypass_entry, matches_no_proxy, proxy_env, proxy_for
from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    Ref,
    as_dict,
    as_int,
    as_list,
    dig,
    text,
)
from kubectl_certdoctor.versions import controller_container

NO_PROXY_NAMES = ("NO_PROXY", "no_proxy")
NS_FLAG = "--dns01-recursive-nameservers"
NS_ONLY_FLAG = "--dns01-recursive-nameservers-only"


def _container_index(dep: Obj) -> int:
    """Index of the controller container (versions.controller_container picks it)."""
    cs = as_list(dig(dep, "spec", "template", "spec", "containers"))
    c = controller_container(dep)
    if c is None:
        raise FixError("the Deployment has no containers")
    return next(i for i, x in enumerate(cs) if x is c)


def _rollout_warning(dep: Obj, ref: Ref) -> str:
    n = as_int(dig(dep, "spec", "replicas"), 1)
    return (f"this changes the pod template of Deployment {ref.name}: a rollout will restart "
            f"cert-manager ({n} replica{'s' if n != 1 else ''})")


def _entries(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = str(value or "").split(",")
    return [s.strip() for s in items if s.strip()]


def _env(container: Obj) -> dict[str, str]:
    return {text(e.get("name")): text(e.get("value")) for e in
            (as_dict(x) for x in as_list(container.get("env")))
            if text(e.get("name")) and "value" in e}


def missing_entries(objs: ObjectSet, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """(NO_PROXY entries to add, in-cluster URLs they are for), computed with Go's rules
    over the targets the PROXY_NO_PROXY_GAP rule checks."""
    from kubectl_certdoctor.graph import build_graph
    from kubectl_certdoctor.rules.proxy import targets

    graph = build_graph(objs, datetime.now(UTC))
    add: list[str] = []
    urls: list[str] = []
    for url, _why in targets(graph):
        if proxy_for(url, env) is not None:
            urls.append(url)
            s = bypass_entry(url)
            if s not in add:
                add.append(s)
    return add, urls


def plan_no_proxy(objs: ObjectSet, target: Ref, params: FixParams) -> FixPlan:
    dep = need(objs, target)
    ci = _container_index(dep)
    container = as_dict(dig(dep, "spec", "template", "spec", "containers", ci))
    env = _env(container)
    plan = FixPlan("add-no-proxy", f"Add missing NO_PROXY entries to Deployment {target.name}",
                   target)
    for e in (as_dict(x) for x in as_list(container.get("env"))):
        if text(e.get("name")) in NO_PROXY_NAMES and "valueFrom" in e:
            raise FixError(f"{e.get('name')} of {target} comes from a ConfigMap/Secret "
                           "(valueFrom): change it there")
    if params.get("entries"):
        add = _entries(params["entries"])
        urls: list[str] = []
    else:
        eff = proxy_env(env)
        if not (eff["HTTP_PROXY"] or eff["HTTPS_PROXY"]):
            plan.noop_reason = "the controller has no HTTP_PROXY/HTTPS_PROXY: nothing is proxied"
            return plan
        add, urls = missing_entries(objs, env)
    current = proxy_env(env)["NO_PROXY"]
    have = {s.strip().lower() for s in current.split(",") if s.strip()}
    add = [a for a in add if a.lower() not in have]
    if not add:
        plan.noop_reason = "NO_PROXY already covers every in-cluster target"
        return plan
    plan.params = {"entries": add}
    base = f"/spec/template/spec/containers/{ci}/env"
    envlist = [as_dict(x) for x in as_list(container.get("env"))]
    ops: list[dict[str, Any]] = []
    names_present = [i for i, e in enumerate(envlist) if text(e.get("name")) in NO_PROXY_NAMES]
    for i in names_present:
        old = text(envlist[i].get("value"))
        new = ",".join([s for s in old.split(",") if s.strip()] + add)
        ops += [{"op": "test", "path": f"{base}/{i}", "value": envlist[i]},
                {"op": "replace", "path": f"{base}/{i}/value", "value": new}]
    if not names_present:
        entry = {"name": "NO_PROXY", "value": ",".join(add)}
        if "env" in container:
            ops.append({"op": "add", "path": f"{base}/-", "value": entry})
        else:
            ops.append({"op": "add", "path": base, "value": [entry]})
    call = json_patch_call(dep, target, ops, "add " + ",".join(add) + " to NO_PROXY")
    plan.calls.append(call)
    after = apply_json_patch(dep, call.body)
    plan.diffs.append(ObjectDiff(target, dep, after))
    plan.warnings.append(_rollout_warning(dep, target))
    after_env = _env(as_dict(dig(after, "spec", "template", "spec", "containers", ci)))
    still = [u for u in urls if proxy_for(u, after_env) is not None]
    if still:
        plan.warnings.append("still proxied afterwards: " + ", ".join(still))
    for u in urls:
        host = urlsplit(u).hostname or ""
        port = urlsplit(u).port or 443
        if matches_no_proxy(host, port, after_env.get("NO_PROXY") or after_env.get("no_proxy")):
            plan.notes.append(f"{u} will go direct")
    plan.expect.append(Expectation(
        "generation", target, f"Deployment {target.name} rolls out",
        generation=as_int(dig(dep, "metadata", "generation"))))
    return plan


def _valid_nameserver(s: str) -> str:
    """'1.2.3.4:53', '[::1]:53' or an https:// DoH URL; a bare IP gets ':53'."""
    if s.startswith("https://"):
        if not urlsplit(s).hostname:
            raise FixError(f"invalid DNS-over-HTTPS URL {s!r}")
        return s
    try:
        ip = ipaddress.ip_address(s.strip("[]"))
        return f"[{ip}]:53" if ip.version == 6 else f"{ip}:53"
    except ValueError:
        pass
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise FixError(f"invalid nameserver {s!r}",
                       hint="use host:port (e.g. 8.8.8.8:53) or an https:// URL")
    return s


def set_nameserver_args(args: list[str], servers: list[str], only: bool) -> list[str]:
    """``args`` without any earlier nameserver flags, plus the new ones at the end."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == NS_FLAG:
            skip = True
            continue
        if a.startswith(NS_FLAG + "=") or a == NS_ONLY_FLAG or a.startswith(NS_ONLY_FLAG + "="):
            continue
        out.append(a)
    out.append(f"{NS_FLAG}={','.join(servers)}")
    if only:
        out.append(NS_ONLY_FLAG)
    return out


def plan_nameservers(objs: ObjectSet, target: Ref, params: FixParams) -> FixPlan:
    dep = need(objs, target)
    servers = [_valid_nameserver(s) for s in _entries(params.get("nameservers"))]
    if not servers:
        raise FixError("set-recursive-nameservers needs nameservers=<host:port,...>",
                       hint="e.g. nameservers=1.1.1.1:53,8.8.8.8:53")
    only = str(params.get("only", "true")).lower() not in ("false", "0", "no")
    ci = _container_index(dep)
    container = as_dict(dig(dep, "spec", "template", "spec", "containers", ci))
    old = [text(a) for a in as_list(container.get("args"))]
    new = set_nameserver_args(old, servers, only)
    plan = FixPlan("set-recursive-nameservers",
                   f"Use {','.join(servers)} for DNS-01 checks in Deployment {target.name}",
                   target, params={"nameservers": servers, "only": only})
    if any(text(a).startswith(NS_FLAG) for a in as_list(container.get("command"))):
        plan.warnings.append("the container command also sets nameserver flags; args are "
                             "appended after it and win")
    if new == old:
        plan.noop_reason = "the controller already uses exactly these nameserver flags"
        return plan
    path = f"/spec/template/spec/containers/{ci}/args"
    if "args" in container:
        ops: list[dict[str, Any]] = [{"op": "test", "path": path, "value": container["args"]},
                                     {"op": "replace", "path": path, "value": new}]
    else:
        ops = [{"op": "add", "path": path, "value": new}]
    call = json_patch_call(dep, target, ops, f"set {NS_FLAG}={','.join(servers)}"
                           + (f" and {NS_ONLY_FLAG}" if only else ""))
    plan.calls.append(call)
    plan.diffs.append(ObjectDiff(target, dep, apply_json_patch(dep, call.body)))
    plan.warnings.append(_rollout_warning(dep, target))
    if only:
        plan.notes.append("With --dns01-recursive-nameservers-only cert-manager checks "
                          "propagation only against these servers, not the authoritative ones.")
    plan.expect.append(Expectation(
        "generation", target, f"Deployment {target.name} rolls out",
        generation=as_int(dig(dep, "metadata", "generation"))))
    return plan


NO_PROXY_SPEC = FixSpec(
    id="add-no-proxy",
    title="Add the missing in-cluster entries to the controller's NO_PROXY",
    resolves=("PROXY_NO_PROXY_GAP", "ACME_SERVER_UNREACHABLE",
              "ACME_ACCOUNT_KEY_SECRET_UNREADABLE"),
    mutating=True,
    target_kinds=("Deployment",),
    planner=plan_no_proxy,
    reads=("Deployment", "Service", "Issuer", "ClusterIssuer"),
    param_help=("entries=<a,b,...>  entries to add (default: computed with Go's NO_PROXY rules)",),
    doc="JSON-patches NO_PROXY (and no_proxy when present) of the controller container.",
)

NAMESERVERS_SPEC = FixSpec(
    id="set-recursive-nameservers",
    title="Set --dns01-recursive-nameservers(-only) on the controller",
    resolves=("DNS01_PROPAGATION_PENDING",),
    mutating=True,
    target_kinds=("Deployment",),
    planner=plan_nameservers,
    reads=("Deployment",),
    param_help=("nameservers=<host:port,...>  recursive resolvers (required)",
                "only=true|false              also set --dns01-recursive-nameservers-only "
                "(default true)"),
    doc="Replaces the nameserver flags in the controller container's args.",
)
