"""Connecting to the API server the way kubectl does, with errors a person can act on.

``connect(opts)`` resolves the kubeconfig (``--kubeconfig``, then ``$KUBECONFIG`` as a
colon list, then ``~/.kube/config``, then the in-cluster service account), picks the
context, applies impersonation and the request timeout, and makes ONE request
(a SelfSubjectReview, which also tells who we are) so that a wrong server, a bad
certificate or expired credentials fail here as a one-line ``ClusterError`` rather
than later inside a watcher thread.

``Connection.request`` is the thin raw-HTTP path the store, probes and fixes share: it
returns the undecoded urllib3 response so LIST and WATCH bodies can be decoded with
orjson, with no model deserialisation. The official ``kubernetes`` client is imported
inside functions only, because the CLI must start in well under 300 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from kubectl_certdoctor.errors import ClusterError
from kubectl_certdoctor.kinds import ALL_KINDS, Kind
from kubectl_certdoctor.options import Options

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
NO_CONFIG_HINT = ("pass --kubeconfig or set KUBECONFIG; "
                  "without a cluster try --demo or --from-file FILE")
#: aggregated discovery (GA in 1.30): all groups and resources in one response
AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9"
)


class ApiError(ClusterError):
    """An HTTP error status from the API server (kept with its code for callers that branch)."""

    def __init__(self, status: int, message: str, *, reason: str = "",
                 body: Any = None, hint: str | None = None, detail: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.reason = reason
        self.body = body
        #: the server's own message (Status.message), one line
        self.detail = detail or message


class Unreachable(ClusterError):
    """No HTTP answer at all: refused, timed out, DNS, TLS or a dropped connection."""


@dataclass
class Discovery:
    """Which of the watched kinds the server serves."""

    available: set[str] = field(default_factory=set)
    missing: list[Kind] = field(default_factory=list)

    @property
    def cert_manager_installed(self) -> bool:
        return not any(k.crd for k in self.missing)


def kubeconfig_paths(opts: Options) -> list[str]:
    """kubectl's precedence: the flag (one file), else $KUBECONFIG (a list), else the default."""
    if opts.kubeconfig:
        return [os.path.expanduser(opts.kubeconfig)]
    env = os.environ.get("KUBECONFIG", "")
    if env.strip():
        return [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
    return [os.path.expanduser("~/.kube/config")]


def _in_cluster(sa_dir: str) -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and os.path.exists(
        os.path.join(sa_dir, "token"))


def _read_yaml(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as e:
        raise ClusterError(f"cannot read kubeconfig {path}: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise ClusterError(f"kubeconfig {path} is not valid YAML: "
                           f"{str(e).splitlines()[0]}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ClusterError(f"kubeconfig {path} is not a kubeconfig (a mapping is expected)")
    return doc


def _named(items: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for it in items if isinstance(items, list) else []:
        if isinstance(it, dict) and isinstance(it.get("name"), str):
            out.setdefault(it["name"], it)  # first file wins, as in kubectl
    return out


@dataclass
class _Merged:
    """The merged kubeconfig, kept as plain dicts (the client's merger would be fine
    but reports a missing context as a bare KeyError)."""

    paths: list[str]
    doc: dict[str, Any]
    current: str


def _load_merged(paths: Sequence[str]) -> _Merged | None:
    existing = [p for p in paths if os.path.isfile(p)]
    if not existing:
        return None
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": []}
    current = ""
    seen: dict[str, set[str]] = {"clusters": set(), "contexts": set(), "users": set()}
    for p in existing:
        doc = _read_yaml(p)
        for key in ("clusters", "contexts", "users"):
            for name_, item in _named(doc.get(key)).items():
                if name_ not in seen[key]:
                    seen[key].add(name_)
                    merged[key].append(_absolute(item, os.path.dirname(p)))
        if not current and isinstance(doc.get("current-context"), str):
            current = doc["current-context"]
    merged["current-context"] = current
    return _Merged(existing, merged, current)


_PATH_KEYS = ("certificate-authority", "client-certificate", "client-key", "tokenFile")


def _absolute(item: dict[str, Any], base: str) -> dict[str, Any]:
    """Relative file paths in a kubeconfig are relative to that file (kubectl's rule)."""
    out = dict(item)
    for section in ("cluster", "user"):
        body = out.get(section)
        if isinstance(body, dict):
            body = dict(body)
            for k in _PATH_KEYS:
                v = body.get(k)
                if isinstance(v, str) and v and not os.path.isabs(v):
                    body[k] = os.path.join(base, os.path.expanduser(v))
            out[section] = body
    return out


class _Target:
    """What the kubeconfig (or the service account) says about where and who."""

    def __init__(self, configuration: Any, context: str, namespace: str, user: str) -> None:
        self.configuration = configuration
        self.context = context
        self.namespace = namespace
        self.user = user


def _from_kubeconfig(opts: Options, merged: _Merged) -> _Target:
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader

    contexts = _named(merged.doc.get("contexts"))
    where = ", ".join(merged.paths)
    ctx_name = opts.context or merged.current
    if not ctx_name:
        raise ClusterError(f"no current context in {where}",
                           hint="pass --context NAME" + _available(contexts))
    if ctx_name not in contexts:
        raise ClusterError(f"context {ctx_name!r} not found in {where}",
                           hint=_available(contexts).lstrip("; ") or "it has no contexts")
    ctx = contexts[ctx_name].get("context")
    ctx = ctx if isinstance(ctx, dict) else {}
    cluster_name = ctx.get("cluster")
    if cluster_name not in _named(merged.doc.get("clusters")):
        raise ClusterError(f"context {ctx_name!r} refers to cluster {cluster_name!r}, "
                           f"which is not defined in {where}")
    cfg = client.Configuration()
    try:
        loader = KubeConfigLoader(config_dict=merged.doc, active_context=ctx_name,
                                  config_base_path=None)
        loader.load_and_set(cfg)
    except ConfigException as e:
        raise ClusterError(f"kubeconfig context {ctx_name!r}: {_one_line(e)}") from None
    except (KeyError, TypeError, ValueError, OSError) as e:
        raise ClusterError(f"kubeconfig context {ctx_name!r} is incomplete or invalid: "
                           f"{_one_line(e)}") from None
    ns = ctx.get("namespace") if isinstance(ctx.get("namespace"), str) else ""
    return _Target(cfg, ctx_name, ns or "default", str(ctx.get("user") or ""))


def _from_service_account(sa_dir: str) -> _Target:
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import InClusterConfigLoader

    cfg = client.Configuration()
    try:
        InClusterConfigLoader(os.path.join(sa_dir, "token"),
                              os.path.join(sa_dir, "ca.crt")).load_and_set(cfg)
    except ConfigException as e:
        raise ClusterError(f"in-cluster configuration: {_one_line(e)}") from None
    ns = "default"
    try:
        with open(os.path.join(sa_dir, "namespace"), encoding="utf-8") as f:
            ns = f.read().strip() or "default"
    except OSError:
        pass
    return _Target(cfg, "in-cluster", ns, "serviceaccount")


def _available(contexts: Mapping[str, Any]) -> str:
    if not contexts:
        return ""
    return "; available: " + ", ".join(sorted(contexts))


def _one_line(e: BaseException) -> str:
    s = str(e).strip() or type(e).__name__
    return s.splitlines()[0][:300]


#: POSTs that only ask questions (who am I, may I): allowed under --read-only
_REVIEW_PREFIXES = ("/apis/authentication.k8s.io/", "/apis/authorization.k8s.io/")
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def read_only_violation(method: str, url: str) -> bool:
    """True when a request would change the cluster (reviews are questions, not changes)."""
    if method.upper() not in _MUTATING:
        return False
    from urllib.parse import urlsplit

    path = urlsplit(url).path
    return not path.startswith(_REVIEW_PREFIXES)


def _make_api_client(cfg: Any, opts: Options) -> Any:
    """An ApiClient whose every request (typed API calls included) carries the
    impersonation headers and honours ``--read-only``. Impersonate-Group may repeat,
    which a plain dict of default headers cannot express, hence the REST subclass;
    the same place refuses any mutation under ``--read-only``, whoever asks."""
    import urllib3
    from kubernetes import client
    from kubernetes.client import rest

    # connection refused / TLS / connect timeout: fail at once (the caller backs off);
    # one read retry covers a keep-alive connection the server closed meanwhile
    cfg.retries = urllib3.Retry(total=1, connect=0, read=1, redirect=0, status=0, other=0,
                                raise_on_status=False)
    # one streaming connection per watch, plus Secret GETs, probes and fixes
    cfg.connection_pool_maxsize = max(len(ALL_KINDS) + 16, int(cfg.connection_pool_maxsize))
    groups = list(opts.as_groups or [])
    read_only = bool(opts.read_only)

    class _GuardedREST(rest.RESTClientObject):
        def request(self, method: str, url: str, headers: Any = None, body: Any = None,
                    post_params: Any = None, _request_timeout: Any = None) -> Any:
            if read_only and read_only_violation(method, url):
                from kubectl_certdoctor.errors import ReadOnlyError

                raise ReadOnlyError(f"refusing {method} {url.split('?')[0]}: --read-only "
                                    "is in force")
            h = urllib3.HTTPHeaderDict(dict(headers or {}))
            for g in groups:
                h.add("Impersonate-Group", g)
            return super().request(method, url, headers=h, body=body,
                                   post_params=post_params, _request_timeout=_request_timeout)

    if not cfg.verify_ssl:  # insecure-skip-tls-verify: kubectl does not nag either
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    api = client.ApiClient(cfg)
    api.rest_client = _GuardedREST(cfg)
    api.user_agent = "kubectl-certdoctor"
    if opts.as_user:
        api.set_default_header("Impersonate-User", opts.as_user)
    return api


class Connection:
    """An authenticated link to one API server (one kubeconfig context)."""

    def __init__(self, api_client: Any, *, context: str, namespace: str, user: str,
                 server: str, request_timeout: float, read_only: bool = False) -> None:
        self.api_client = api_client
        #: --read-only: every mutating request is refused before it is sent
        self.read_only = read_only
        self.context = context
        self.namespace = namespace
        self.user = user
        self.server = server
        self.request_timeout = request_timeout

    def __repr__(self) -> str:
        return f"Connection(context={self.context!r}, server={self.server!r}, user={self.user!r})"

    # -- raw HTTP ---------------------------------------------------------------------

    def url(self, path: str, query: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> str:
        host = str(self.api_client.configuration.host).rstrip("/")
        u = host + quote(path, safe="/:@-._~!$&'()*+,;=")
        if query:
            items = query.items() if isinstance(query, Mapping) else query
            pairs = [(k, _qv(v)) for k, v in items if v is not None]
            if pairs:
                u += "?" + urlencode(pairs)
        return u

    def _headers(self, accept: str, content_type: str | None) -> dict[str, str]:
        h: dict[str, str] = dict(self.api_client.default_headers)
        h["Accept"] = accept
        if content_type:
            h["Content-Type"] = content_type
        # bearer tokens (static, file, exec plugin, OIDC) with their refresh hook
        for setting in self.api_client.configuration.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                h[setting["key"]] = setting["value"]
        return h

    def request(self, method: str, path: str, query: Any = None, body: Any = None, *,
                timeout: float | tuple[float, float] | None = None,
                accept: str = "application/json", content_type: str | None = None,
                check: bool = True) -> Any:
        """Send one request and return the raw, unread urllib3 response.

        ``body``: a JSON-able object (or JSON text) that the client serialises.
        ``timeout`` defaults to the request timeout; a tuple is (connect, read).
        With ``check`` a non-2xx status raises ``ApiError`` (its body read and
        released). Network failures raise ``Unreachable``; always one line.
        """
        from kubernetes.client.exceptions import ApiException

        t = self.request_timeout if timeout is None else timeout
        tt: tuple[float, float] = t if isinstance(t, tuple) else (t, t)
        if body is not None and content_type is None:
            content_type = "application/json"
        if isinstance(body, (bytes, str)) and "json" in (content_type or ""):
            body = json.loads(body)  # the client serialises JSON bodies itself
        try:
            r = self.api_client.rest_client.request(
                method, self.url(path, query), headers=self._headers(accept, content_type),
                body=body, _request_timeout=tt)
        except ApiException as e:  # the client turns TLS failures into status 0
            raise self._network_error(e, tt[0]) from None
        except Exception as e:
            if _is_network_error(e):
                raise self._network_error(e, tt[0]) from None
            raise
        resp = r.response
        if check and not 200 <= resp.status <= 299:
            raise self._status_error(resp, method, path)
        return resp

    def json(self, method: str, path: str, query: Any = None, body: Any = None, *,
             timeout: float | None = None, accept: str = "application/json",
             content_type: str | None = None) -> Any:
        """A request whose JSON answer is decoded (orjson); errors as in ``request``.
        For patches pass e.g. ``content_type="application/merge-patch+json"``."""
        import orjson

        resp = self.request(method, path, query, body, timeout=timeout, accept=accept,
                            content_type=content_type)
        try:
            data = resp.data
        except Exception as e:
            if _is_network_error(e):
                raise self._network_error(e, self.request_timeout) from None
            raise
        finally:
            resp.release_conn()
        try:
            return orjson.loads(data) if data else None
        except orjson.JSONDecodeError:
            raise ClusterError(f"{method} {path}: the server answered with non-JSON data "
                               f"({data[:80]!r})") from None

    def get(self, path: str, query: Any = None, *, timeout: float | None = None) -> Any:
        return self.json("GET", path, query, timeout=timeout)

    # -- errors -------------------------------------------------------------------------

    def _status_error(self, resp: Any, method: str, path: str) -> ApiError:
        import orjson

        try:
            raw = resp.data
        except Exception:
            raw = b""
        finally:
            resp.release_conn()
        body: Any = None
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        msg = ""
        reason = ""
        if isinstance(body, dict):
            msg = str(body.get("message") or "")
            reason = str(body.get("reason") or "")
        if not msg:
            msg = raw[:200].decode("utf-8", "replace").strip() or str(resp.reason or "")
        return status_error(resp.status, msg, reason=reason, body=body, where=self.server,
                            context=self.context, user=self.user, what=f"{method} {path}")

    def _network_error(self, e: BaseException, timeout: float) -> Unreachable:
        return Unreachable(describe_network_error(e, self.server, timeout),
                           hint=_network_hint(e))

    # -- discovery --------------------------------------------------------------------

    def discover(self, kinds: Iterable[Kind] = ALL_KINDS) -> Discovery:
        """Which kinds exist: two aggregated-discovery requests (``/api``, ``/apis``),
        or one request per group-version on servers without aggregated discovery."""
        wanted = list(kinds)
        served: dict[str, set[str]] = {}  # "group/version" → plurals
        aggregated = True
        for path in ("/api", "/apis"):
            doc = self.json("GET", path, accept=AGGREGATED_ACCEPT)
            if not (isinstance(doc, dict) and doc.get("kind") == "APIGroupDiscoveryList"):
                aggregated = False
                break
            for g in doc.get("items") or []:
                gname = str((g.get("metadata") or {}).get("name") or "")
                for v in g.get("versions") or []:
                    gv = f"{gname}/{v.get('version')}" if gname else str(v.get("version"))
                    served.setdefault(gv, set()).update(
                        str(r.get("resource")) for r in v.get("resources") or [])
        if not aggregated:
            served = {}
            for gv_path in sorted({k.path for k in wanted}):
                try:
                    doc = self.get(gv_path)
                except ApiError as e:
                    if e.status == 404:
                        continue
                    raise
                gv = gv_path.removeprefix("/apis/").removeprefix("/api/")
                served[gv] = {str(r.get("name")) for r in (doc or {}).get("resources") or []}
        result = Discovery()
        for k in wanted:
            if k.plural in served.get(k.api_version, set()):
                result.available.add(k.name)
            else:
                result.missing.append(k)
        return result

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.api_client.close()


def _qv(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _is_network_error(e: BaseException) -> bool:
    import urllib3

    return isinstance(e, (urllib3.exceptions.HTTPError, OSError, ssl.SSLError))


def _root_cause(e: BaseException) -> BaseException:
    import urllib3

    seen = 0
    cur: BaseException = e
    while seen < 8:
        seen += 1
        nxt: BaseException | None = None
        if isinstance(cur, urllib3.exceptions.MaxRetryError) and cur.reason is not None:
            nxt = cur.reason
        elif isinstance(cur, urllib3.exceptions.ProtocolError) and cur.args[1:]:
            a = cur.args[1]
            nxt = a if isinstance(a, BaseException) else None
        elif cur.__cause__ is not None:
            nxt = cur.__cause__
        if nxt is None:
            break
        cur = nxt
    return cur


def describe_network_error(e: BaseException, server: str, timeout: float) -> str:
    """One line naming the server and what went wrong at the network level."""
    import urllib3

    text_ = str(e)
    root = _root_cause(e)
    rtext = str(root)
    if isinstance(root, (ssl.SSLError, urllib3.exceptions.SSLError)) or "SSLError" in text_ \
            or "CERTIFICATE_VERIFY_FAILED" in text_:
        detail = rtext
        for marker in ("certificate verify failed", "hostname mismatch", "WRONG_VERSION_NUMBER",
                       "unknown ca", "bad certificate", "certificate required"):
            i = text_.find(marker)
            if i >= 0:
                detail = text_[i:].split("'")[0].split('"')[0]
                detail = re.sub(r"\s*\(_ssl\.c:\d+\)?.*$", "", detail).rstrip(" )")
                break
        return f"TLS error talking to the API server at {server}: {detail.strip()[:200]}"
    if isinstance(root, (ConnectionRefusedError,)) or "Connection refused" in rtext:
        return f"cannot reach the API server at {server}: connection refused"
    if isinstance(root, (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.
                         ReadTimeoutError, TimeoutError)) or "timed out" in rtext:
        return f"cannot reach the API server at {server}: no answer within {timeout:g}s"
    if isinstance(root, urllib3.exceptions.NameResolutionError) or "resolve" in rtext.lower():
        return f"cannot reach the API server at {server}: the host name does not resolve"
    if isinstance(root, (ConnectionResetError, BrokenPipeError)) \
            or "RemoteDisconnected" in text_ or "reset" in rtext.lower():
        return f"the API server at {server} closed the connection"
    detail = rtext.split(": ", 1)[-1] if ": " in rtext else rtext
    return f"cannot reach the API server at {server}: {detail.strip()[:200] or type(root).__name__}"


def _network_hint(e: BaseException) -> str | None:
    t = str(e)
    if "CERTIFICATE_VERIFY_FAILED" in t or "certificate verify failed" in t:
        return "check certificate-authority(-data) of the cluster in the kubeconfig"
    return None


def status_error(status: int, message: str, *, reason: str = "", body: Any = None,
                 where: str = "", context: str = "", user: str = "",
                 what: str = "") -> ApiError:
    """An ``ApiError`` whose one-line message says what a person should check."""
    m = " ".join(message.split())[:300]
    kw: dict[str, Any] = {"reason": reason, "body": body, "detail": m}
    if status == 401:
        return ApiError(401, f"the API server at {where} rejected the credentials of context "
                        f"{context!r} (401 Unauthorized)",
                        hint="log in again or refresh the token/certificate in the kubeconfig",
                        **kw)
    if status == 403:
        return ApiError(403, f"forbidden: {m}" if m else f"forbidden: {what}",
                        hint=f"user {user!r} lacks RBAC permission" if user else None, **kw)
    if status == 404:
        return ApiError(404, f"not found: {what}" + (f" ({m})" if m else ""), **kw)
    return ApiError(status, f"{what}: HTTP {status}" + (f": {m}" if m else ""), **kw)


def _load_target(opts: Options, sa_dir: str) -> _Target:
    paths = kubeconfig_paths(opts)
    if opts.kubeconfig and not os.path.exists(paths[0]):
        raise ClusterError(f"kubeconfig {opts.kubeconfig} does not exist", hint=NO_CONFIG_HINT)
    merged = _load_merged(paths)
    if merged is not None:
        return _from_kubeconfig(opts, merged)
    if _in_cluster(sa_dir) and not opts.context:
        return _from_service_account(sa_dir)
    raise ClusterError("no kubeconfig found (looked at " + ", ".join(paths) + ")",
                       hint=NO_CONFIG_HINT)


def connect(opts: Options, *, verify: bool = True, sa_dir: str = SA_DIR) -> Connection:
    """Resolve the kubeconfig and check, with one request, that the server answers and
    accepts us. Raises ``ClusterError`` (one line) on any failure. Without any kubeconfig,
    inside a pod, the service account in ``sa_dir`` is used."""
    if opts.as_groups and not opts.as_user:
        from kubectl_certdoctor.errors import UsageError

        raise UsageError("--as-group needs --as (the user to impersonate)")
    target = _load_target(opts, sa_dir)
    timeout = float(opts.request_timeout or 0) or 30.0  # kubectl's "0" (none): keep a bound
    api = _make_api_client(target.configuration, opts)
    from kubectl_certdoctor.redact import scrub_text

    # for messages and the audit log: a server URL may carry ``user:password@``
    server = scrub_text(str(target.configuration.host))
    conn = Connection(api, context=target.context,
                      namespace=opts.namespace or target.namespace or "default",
                      user=opts.as_user or target.user, server=server, request_timeout=timeout,
                      read_only=bool(opts.read_only))
    if verify:
        try:
            conn.user = whoami(conn) or conn.user
        except ClusterError:
            conn.close()
            raise
    return conn


def whoami(conn: Connection) -> str:
    """The authenticated user name (SelfSubjectReview); also proves the server answers
    and accepts our credentials. Falls back to ``/version`` on servers before 1.28."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    try:
        doc = conn.json("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=body)
    except ApiError as e:
        if e.status != 404:
            raise
        conn.get("/version")
        return ""
    info = ((doc or {}).get("status") or {}).get("userInfo") or {}
    return str(info.get("username") or "")
