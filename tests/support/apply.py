"""Create object graphs (scenarios) in the real test API server, status included.

``apply_objects`` takes objects as ``kubectl get -o yaml`` prints them and recreates
them through the generic REST path (``api_client.call_api``), the way a controller
would have left them:

* server-owned metadata is dropped (uid, resourceVersion, generation,
  creationTimestamp, managedFields, selfLink, deletion fields);
* with ``namespace``, every namespaced object moves into it (Namespace objects of
  the scenario are skipped); Events follow their
  ``involvedObject``/``regarding`` (Events about cluster-scoped objects go to
  ``default``, as the API server requires);
* with ``keep_namespaces=True`` (real topology) only the *workload* namespace — the
  namespace of the scenario's Certificates, else of its Issuers, else of its first
  namespaced object — becomes ``namespace``; every other namespace keeps its name
  (``cert-manager`` for the controller, ``ingress-nginx`` for a LoadBalancer, ``infra``
  for a Gateway), is created when missing, and its objects are labelled like the
  cluster-scoped ones so the ``namespace`` fixture deletes them (last writer wins there
  too: tests run one at a time);
* owners are created before their dependents (ownerReferences order the set; ties
  follow Issuer/ClusterIssuer → Certificate → CertificateRequest → Order →
  Challenge) and each ownerReference's uid is rewritten to the owner's new uid, so
  the garbage collector keeps the graph. An ownerReference whose owner is neither
  in the set nor in the cluster is dropped (the garbage collector would otherwise
  delete the dependent);
* ``status`` is written through the status subresource where the kind has one
  (merge patch; keys the server defaulted but the scenario lacks are removed);
* Services lose ``clusterIP(s)`` and ``nodePort``s (the server allocates them from
  the test ranges); a Pod's ServiceAccount is created if missing; a redacted
  ``kubernetes.io/tls`` Secret (bundles drop ``tls.key``) gets an empty ``tls.key``,
  which its type requires;
* objects keep their finalizers (the ``namespace`` fixture releases them).

Cluster-scoped objects (ClusterIssuer, IngressClass, ...) keep their names so the
references in a scenario stay valid. Policy: **last writer wins** — an existing
object of that name is replaced (spec and status) by the new one, and it is
labelled ``certdoctor.test/scenario-namespace=<namespace>``; the ``namespace``
fixture deletes the cluster-scoped objects (and ``default``-namespace Events)
labelled with its namespace when it tears down. Tests run one at a time, so a
scenario never sees another scenario's cluster-scoped objects.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from kubernetes.client.exceptions import ApiException

Obj = dict[str, Any]

SCENARIO_LABEL = "certdoctor.test/scenario-namespace"

#: creation order when ownerReferences do not decide
_KIND_ORDER = [
    "Namespace", "CustomResourceDefinition", "IngressClass", "ServiceAccount", "ConfigMap",
    "Secret", "ClusterIssuer", "Issuer", "Service", "Deployment", "ReplicaSet", "Pod",
    "Ingress", "Certificate", "CertificateRequest", "Order", "Challenge",
]
_EVENT_KINDS = ("Event",)
#: cluster-scoped kinds apply_objects has labelled (cleanup_cluster_scoped deletes them)
_CLUSTER_KINDS: set[tuple[str, str]] = {
    ("cert-manager.io/v1", "ClusterIssuer"), ("networking.k8s.io/v1", "IngressClass")}
#: (apiVersion, kind, namespace) of labelled objects outside the test namespace
_FOREIGN: set[tuple[str, str, str]] = set()
#: kinds the store watches cluster-wide: a terminating test namespace must not keep
#: them visible to the next test (cleanup deletes them at once)
_CONTEXT_KINDS = (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "Pod"),
                  ("gateway.networking.k8s.io/v1", "Gateway"))
_SERVER_OWNED = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                 "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")


class ApplyError(RuntimeError):
    """An object the API server refused, with its kind/name and the server's reason."""


# ------------------------------------------------------------------ discovery


class _Resource:
    def __init__(self, api_version: str, plural: str, namespaced: bool, status: bool) -> None:
        self.api_version = api_version
        self.plural = plural
        self.namespaced = namespaced
        self.status = status

    def path(self, namespace: str | None, name: str | None = None, sub: str = "") -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced:
            base += f"/namespaces/{namespace or 'default'}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


_DISCOVERY: dict[tuple[str, str], dict[str, _Resource]] = {}


def _resource(api: Any, api_version: str, kind: str) -> _Resource:
    """plural/scope/status-subresource of a kind, from the server's discovery (cached)."""
    key = (str(api.configuration.host), api_version)
    for attempt in range(2):
        if key not in _DISCOVERY or attempt:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                doc = _call(api, "GET", path)
            except ApiException as e:
                raise ApplyError(f"{api_version} is not served ({e.status})") from None
            found: dict[str, _Resource] = {}
            names = {r["name"] for r in doc.get("resources", [])}
            for r in doc.get("resources", []):
                if "/" not in r["name"]:
                    found[r["kind"]] = _Resource(api_version, r["name"], r["namespaced"],
                                                 f"{r['name']}/status" in names)
            _DISCOVERY[key] = found
        res = _DISCOVERY[key].get(kind)
        if res is not None:
            return res
    raise ApplyError(f"the server has no kind {kind} in {api_version}")


# ------------------------------------------------------------------ REST


def _call(api: Any, method: str, path: str, body: Any = None,
          content_type: str = "application/json", query: list[tuple[str, Any]] | None = None
          ) -> Any:
    """One request through the client's own REST stack (auth, TLS, proxy as configured)."""
    m, url, headers, data, post = api.param_serialize(
        method, path, query_params=query or [],
        header_params={"Content-Type": content_type, "Accept": "application/json"},
        body=body, auth_settings=["BearerToken"])
    resp = api.call_api(m, url, header_params=headers, body=data, post_params=post,
                        _request_timeout=30)
    raw = resp.read()
    if not 200 <= resp.status <= 299:
        raise ApiException.from_response(http_resp=resp, body=raw.decode(errors="replace"),
                                         data=None)
    return json.loads(raw) if raw else None


def _describe(obj: Obj) -> str:
    md = obj.get("metadata", {})
    ns = md.get("namespace")
    return f"{obj.get('kind')} {ns + '/' if ns else ''}{md.get('name')}"


# ------------------------------------------------------------------ ordering


def _order(objs: list[Obj]) -> list[Obj]:
    """Owners before dependents; otherwise by kind order, then as given. Events last."""
    def rank(o: Obj) -> int:
        k = str(o.get("kind"))
        if k in _EVENT_KINDS:
            return 10_000
        return _KIND_ORDER.index(k) if k in _KIND_ORDER else len(_KIND_ORDER)

    pending = sorted(enumerate(objs), key=lambda p: (rank(p[1]), p[0]))
    by_uid = {o.get("metadata", {}).get("uid"): i for i, o in enumerate(objs)
              if o.get("metadata", {}).get("uid")}
    by_name = {(o.get("kind"), o.get("metadata", {}).get("name")): i for i, o in enumerate(objs)}
    done: set[int] = set()
    out: list[Obj] = []
    while pending:
        progressed = False
        for item in list(pending):
            i, o = item
            owners = set()
            for ref in o.get("metadata", {}).get("ownerReferences") or []:
                j = by_uid.get(ref.get("uid"), by_name.get((ref.get("kind"), ref.get("name"))))
                if j is not None and j != i:
                    owners.add(j)
            if owners <= done:
                out.append(o)
                done.add(i)
                pending.remove(item)
                progressed = True
                break
        if not progressed:  # an ownership cycle: create the rest as given
            out.extend(o for _, o in pending)
            break
    return out


# ------------------------------------------------------------------ apply


def _flatten(objs: Iterable[Obj]) -> list[Obj]:
    flat: list[Obj] = []
    for o in objs:
        if not o:
            continue
        if o.get("kind") == "List" or (o.get("kind", "").endswith("List") and "items" in o):
            flat.extend(_flatten(o.get("items") or []))
        else:
            flat.append(o)
    return flat


def _clean_metadata(md: Obj) -> Obj:
    return {k: v for k, v in md.items() if k not in _SERVER_OWNED}


def _prepare_service(body: Obj) -> None:
    spec = body.get("spec") or {}
    if spec.get("clusterIP") not in ("None",):
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    spec.pop("healthCheckNodePort", None)
    for port in spec.get("ports") or []:
        port.pop("nodePort", None)


def _prepare_secret(body: Obj) -> None:
    """Bundles are redacted (no tls.key) but the API server requires the key of a
    kubernetes.io/tls Secret to exist: an empty one keeps the type and stays key-less."""
    if body.get("type") == "kubernetes.io/tls":
        data = body.setdefault("data", {}) or {}
        body["data"] = data
        if "tls.key" not in data and "tls.key" not in (body.get("stringData") or {}):
            data["tls.key"] = ""


def workload_namespace(objs: list[Obj]) -> str | None:
    """The namespace a scenario's story happens in (see the module docstring)."""
    for kinds in (("Certificate",), ("Issuer", "CertificateRequest"), None):
        for o in objs:
            ns = (o.get("metadata") or {}).get("namespace")
            if ns and o.get("kind") != "Event" and (kinds is None or o.get("kind") in kinds):
                return str(ns)
    return None


def _ensure_namespace(api: Any, ns: str, seen: set[str]) -> None:
    if ns in seen:
        return
    seen.add(ns)
    try:
        _call(api, "POST", "/api/v1/namespaces",
              {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    except ApiException as e:
        if e.status != 409:
            raise ApplyError(f"Namespace {ns}: {_reason(e)}") from None


def apply_objects(api_client: Any, objs: Iterable[Obj], namespace: str | None = None,
                  *, keep_namespaces: bool = False) -> list[Obj]:
    """Create ``objs`` (status included) and return the objects as the server stored them.

    See the module docstring for the rewriting, the topology and the cluster-scoped policy.
    """
    items = _order([copy.deepcopy(o) for o in _flatten(objs)])
    ns_map: dict[str, str] = {}
    if namespace and keep_namespaces:
        home = workload_namespace(items)
        if home:
            ns_map[home] = namespace
    created_ns: set[str] = {namespace} if namespace else set()
    old_uid: dict[str, str] = {}  # scenario uid -> new uid
    new_by_name: dict[tuple[str, str, str | None], str] = {}  # (kind, name, ns) -> new uid
    created: list[Obj] = []
    sas_checked: set[tuple[str, str]] = set()
    for obj in items:
        kind = str(obj.get("kind"))
        api_version = str(obj.get("apiVersion", "v1"))
        if namespace and kind == "Namespace" and api_version == "v1":
            continue  # everything namespaced lands in ``namespace``
        res = _resource(api_client, api_version, kind)
        body = {k: v for k, v in obj.items() if k != "status"}
        status = obj.get("status")
        md = _clean_metadata(dict(obj.get("metadata") or {}))
        orig_uid = (obj.get("metadata") or {}).get("uid")
        body["metadata"] = md
        if kind in _EVENT_KINDS:
            ns = _prepare_event(body, namespace, old_uid, new_by_name,
                                ns_map if keep_namespaces else None)
        elif res.namespaced and keep_namespaces and namespace:
            orig = str(md.get("namespace") or "default")
            ns = ns_map.get(orig, orig)
            md["namespace"] = ns
            if ns != namespace:
                _ensure_namespace(api_client, ns, created_ns)
                md.setdefault("labels", {})[SCENARIO_LABEL] = namespace
                _FOREIGN.add((api_version, kind, ns))
        elif res.namespaced:
            ns = namespace or md.get("namespace") or "default"
            md["namespace"] = ns
        else:
            ns = None
            md.pop("namespace", None)
            if namespace:
                md.setdefault("labels", {})[SCENARIO_LABEL] = namespace
                _CLUSTER_KINDS.add((api_version, kind))
        if ns and namespace and ns != namespace:  # cluster-scoped Event kept in default
            md.setdefault("labels", {})[SCENARIO_LABEL] = namespace
        _rewrite_owners(api_client, md, ns, old_uid, new_by_name)
        if kind == "Service" and api_version == "v1":
            _prepare_service(body)
        if kind == "Secret" and api_version == "v1":
            _prepare_secret(body)
        if kind == "Pod" and api_version == "v1" and ns:
            _ensure_service_account(api_client, ns, body, sas_checked)
        stored = _create_or_replace(api_client, res, ns, body)
        new_uid = stored["metadata"]["uid"]
        if orig_uid:
            old_uid[orig_uid] = new_uid
        new_by_name[(kind, md["name"], ns)] = new_uid
        if status and res.status:
            stored = _write_status(api_client, res, ns, md["name"], status,
                                   stored.get("status") or {}, _describe(body))
        created.append(stored)
    return created


def _prepare_event(body: Obj, namespace: str | None, old_uid: dict[str, str],
                   new_by_name: dict[tuple[str, str, str | None], str],
                   ns_map: dict[str, str] | None = None) -> str:
    md = body["metadata"]
    ref_key = "regarding" if "regarding" in body else "involvedObject"
    ref = body.get(ref_key) or {}
    if ref.get("namespace"):
        if ns_map is not None:
            ref["namespace"] = ns_map.get(str(ref["namespace"]), str(ref["namespace"]))
        elif namespace:
            ref["namespace"] = namespace
        ns = str(ref["namespace"])
    else:  # about a cluster-scoped object: the API server wants it in "default"
        ns = "default"
    md["namespace"] = ns
    if ref.get("uid") in old_uid:
        ref["uid"] = old_uid[ref["uid"]]
    else:
        uid = new_by_name.get((str(ref.get("kind")), str(ref.get("name")),
                               ref.get("namespace") or None))
        if uid:
            ref["uid"] = uid
    return ns


def _rewrite_owners(api: Any, md: Obj, ns: str | None, old_uid: dict[str, str],
                    new_by_name: dict[tuple[str, str, str | None], str]) -> None:
    refs = []
    for ref in md.get("ownerReferences") or []:
        uid = old_uid.get(ref.get("uid", ""))
        if uid is None:
            uid = (new_by_name.get((ref.get("kind"), ref.get("name"), ns))
                   or new_by_name.get((ref.get("kind"), ref.get("name"), None))
                   or _live_uid(api, ref, ns))
        if uid is None:
            continue  # no such owner: the garbage collector would delete the dependent
        refs.append({**ref, "uid": uid})
    if refs:
        md["ownerReferences"] = refs
    else:
        md.pop("ownerReferences", None)


def _live_uid(api: Any, ref: Obj, ns: str | None) -> str | None:
    try:
        res = _resource(api, str(ref.get("apiVersion")), str(ref.get("kind")))
        obj = _call(api, "GET", res.path(ns if res.namespaced else None, str(ref.get("name"))))
    except (ApiException, ApplyError):
        return None
    return str(obj["metadata"]["uid"])


def _ensure_service_account(api: Any, ns: str, pod: Obj, checked: set[tuple[str, str]]) -> None:
    sa = (pod.get("spec") or {}).get("serviceAccountName") or "default"
    if (ns, sa) in checked or sa == "default":
        return
    checked.add((ns, sa))
    try:
        _call(api, "POST", f"/api/v1/namespaces/{ns}/serviceaccounts",
              {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa}})
    except ApiException as e:
        if e.status != 409:
            raise ApplyError(f"ServiceAccount {ns}/{sa}: {_reason(e)}") from None


def _create_or_replace(api: Any, res: _Resource, ns: str | None, body: Obj) -> Obj:
    name = body["metadata"]["name"]
    try:
        return dict(_call(api, "POST", res.path(ns), body))
    except ApiException as e:
        if e.status != 409 or res.namespaced:
            raise ApplyError(f"creating {_describe(body)}: {_reason(e)}") from None
    # cluster-scoped and already there: last writer wins
    try:
        current = _call(api, "GET", res.path(None, name))
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return dict(_call(api, "PUT", res.path(None, name), body))
    except ApiException as e:
        raise ApplyError(f"replacing {_describe(body)}: {_reason(e)}") from None


def _write_status(api: Any, res: _Resource, ns: str | None, name: str, status: Obj,
                  current: Obj, what: str) -> Obj:
    patch_status: Obj = {k: None for k in current if k not in status}
    patch_status.update(status)
    try:
        return dict(_call(api, "PATCH", res.path(ns, name, "status"), {"status": patch_status},
                          content_type="application/merge-patch+json"))
    except ApiException as e:
        raise ApplyError(f"writing the status of {what}: {_reason(e)}") from None


def _reason(e: ApiException) -> str:
    try:
        return str(json.loads(e.body or "").get("message") or e.reason)
    except (TypeError, ValueError):
        return f"{e.status} {e.reason}"


def apply_scenario(api_client: Any, name: str, namespace: str) -> list[Obj]:
    """Apply the library scenario ``name`` into ``namespace`` (timestamps as captured)."""
    import importlib

    scenarios: Any = importlib.import_module("kubectl_certdoctor.scenarios")
    return apply_objects(api_client, list(scenarios.load(name)), namespace)


def cleanup_cluster_scoped(api_client: Any, namespace: str) -> None:
    """Delete what ``apply_objects`` left outside ``namespace`` for it (see the policy),
    and — at once, not when the namespace controller gets to it — the objects in
    ``namespace`` that the store watches cluster-wide (controller Deployments and Pods,
    LoadBalancer Services, Gateways): a terminating namespace must not show the next
    test a second cert-manager controller."""
    selector = f"{SCENARIO_LABEL}={namespace}"
    targets: list[tuple[str, str, str | None, list[tuple[str, Any]]]] = [
        (api_version, kind, "default", [("labelSelector", selector)])
        for api_version, kind in [*sorted(_CLUSTER_KINDS), ("v1", "Event")]]
    targets += [(api_version, kind, ns, [("labelSelector", selector)])
                for api_version, kind, ns in sorted(_FOREIGN)]
    targets += [(api_version, kind, namespace, [("gracePeriodSeconds", 0)])
                for api_version, kind in _CONTEXT_KINDS]
    for api_version, kind, ns, query in targets:
        try:
            res = _resource(api_client, api_version, kind)
        except ApplyError:
            continue
        path = res.path(ns) if res.namespaced else res.path(None)
        if kind == "Service":
            _delete_each(api_client, path, query)  # no DELETE collection on every version
            continue
        try:
            _call(api_client, "DELETE", path, query=query)
        except ApiException:
            continue


def _delete_each(api: Any, path: str, query: list[tuple[str, Any]]) -> None:
    try:
        items = _call(api, "GET", path, query=[q for q in query
                                               if q[0] == "labelSelector"]).get("items") or []
    except ApiException:
        return
    for it in items:
        try:
            _call(api, "DELETE", f"{path}/{it['metadata']['name']}")
        except ApiException:
            continue
