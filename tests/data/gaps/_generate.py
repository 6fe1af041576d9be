"""Generator for the gap corpus (tests/data/gaps/*.yaml).

Failure modes people report publicly that tests/data/reports does not cover. Each bundle
reproduces ONE mode at the cert-manager version of its report, written the way that version
writes status (wording checked against the cert-manager source at that tag), in the shape
``kubectl certdoctor dump`` writes. Headers:

  # source:  public report
  # version: cert-manager version the status is written for
  # mode:    one line
  # want:    CODE | what a good doctor should say  (CODE: an existing finding code, or PROPOSED:NAME)
  # rank:    rough public frequency (1 = most reported)
  # stuck:   true if a Certificate in the bundle is stuck (at least one warning/error expected)

No private key material: Secrets carry tls.crt/ca.crt only (throwaway keys, in memory).
Run:  .venv/bin/python tests/data/gaps/_generate.py
Written independently of kubectl_certdoctor/rules; helpers are shared with tests/data/reports.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_reports_gen", HERE.parent / "reports" / "_generate.py")
R = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(R)  # only definitions run; R.write (which targets reports/) is never called

D, H, M, DAY, ts, cond, event = R.D, R.H, R.M, R.DAY, R.ts, R.cond, R.event
stack, acme_issuer, issuer, certificate, cert_request = R.stack, R.acme_issuer, R.issuer, R.certificate, R.cert_request
acme_chain, ingress, ingress_class, opaque_secret, tls_secret, pem, md, owner = (
    R.acme_chain, R.ingress, R.ingress_class, R.opaque_secret, R.tls_secret, R.pem, R.md, R.owner)
deployment, pod = R.deployment, R.pod
S = dt.timedelta(seconds=1)
LE_PROD = R.LE_PROD

WRITTEN: list[str] = []


def write(fname, T, source, version, mode, want, objs, rank, stuck=True, note=None):
    head = [f"# source: {source}", f"# version: {version}", f"# mode: {mode}", f"# want: {want}",
            f"# rank: {rank}", f"# stuck: {'true' if stuck else 'false'}"]
    if note:
        head += [f"# note: {line}" for line in note.strip().splitlines()]
    head.append(f"# kubectl-certdoctor bundle: {len(objs)} objects from context gap-corpus captured {ts(T)}")
    head.append("# Secret data other than tls.crt/ca.crt and credential-like values were removed.")
    doc = {"apiVersion": "v1", "kind": "List",
           "metadata": {"annotations": {"certdoctor.io/bundle": json.dumps(
               {"tool": "kubectl-certdoctor gap-corpus", "context": "gap-corpus", "capturedAt": ts(T),
                "allNamespaces": True}, separators=(",", ":"))}},
           "items": objs}
    text = "\n".join(head) + "\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=200)
    assert "PRIVATE KEY" not in text and "tls.key:" not in text
    (HERE / fname).write_text(text, encoding="utf-8")
    WRITTEN.append(fname)


def issued_pair(name, ns, T, crt, rev, iref, dns, started, fail_msg, cr_reason="Failed", cr_pending=False,
                group="cert-manager.io", cert_status_extra=None, spec_extra=None, approved=True, cr_conds=None,
                crt_conds=None, created=None):
    """A Certificate whose (non-ACME) CertificateRequest failed / is pending."""
    cr_name = f"{crt}-{rev}"
    if cr_conds is None:
        if cr_pending:
            cr_conds = [cond("Ready", "False", "Pending", fail_msg, started + 2 * S, with_gen=False)]
        else:
            cr_conds = [cond("Ready", "False", cr_reason, fail_msg, started + 2 * S, with_gen=False)]
    cr = cert_request(cr_name, ns, T, crt, rev, iref, cr_conds, started + S, dns=dns, approved=approved)
    cr["spec"]["issuerRef"]["group"] = group
    if cr_pending or cr_conds == []:
        crt_conds = crt_conds or [cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist", started),
                                  cond("Issuing", "True", "DoesNotExist", "Issuing certificate as Secret does not exist", started)]
        st = {"nextPrivateKeySecretName": f"{crt}-x7k2p"}
    else:
        crt_conds = crt_conds or [cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist", started),
                                  cond("Issuing", "False", "Failed",
                                       "The certificate request has failed to complete and will be retried: " + fail_msg,
                                       started + 2 * S)]
        st = {"lastFailureTime": ts(started + 2 * S)}
    st.update(cert_status_extra or {})
    c = certificate(crt, ns, T, dns, iref, f"{crt}-tls" if not name else name, crt_conds, created=created or started,
                    status_extra=st, spec_extra=spec_extra)
    c["spec"]["issuerRef"]["group"] = group
    return [c, cr]


def ca_root_secret(name, ns, T, ca=True):
    s = tls_secret(name, ns, T - 200 * DAY, redacted="tls.key")
    p = pem("Example Root CA" if ca else "ca.example.test", () if ca else ("ca.example.test",),
            T - 200 * DAY, T + 1000 * DAY, ca=ca)
    s["data"] = {"tls.crt": p}
    return s


# ----------------------------------------------------------------------------- CA / SelfSigned

def ca_bundles():
    # CA ClusterIssuer whose Secret is not in the cluster resource namespace
    T = D(2024, 6, 24, 12, 0)
    msg = 'Error getting keypair for CA issuer: secrets "ca-key-pair" not found'
    objs = stack("v1.15.0", T)
    objs.append(issuer({"ca": {"secretName": "ca-key-pair"}}, "ca-issuer", None, T, ready=False, reason="ErrGetKeyPair",
                       message=msg, at=T - 16 * M, created=T - 16 * M))
    objs.append(event(None, "ClusterIssuer", "ca-issuer", "Warning", "ErrGetKeyPair", msg, T - 16 * M, T - M, 9,
                      component="cert-manager-clusterissuers"))
    objs.append(ca_root_secret("ca-key-pair", "default", T))
    objs += issued_pair(None, "web", T, "app-tls", 1, ("ClusterIssuer", "ca-issuer"), ["app.example.test"], T - 15 * M,
                        "Referenced issuer does not have a Ready status condition", cr_pending=True)
    write("ca-clusterissuer-secret-wrong-namespace.yaml", T, "https://github.com/cert-manager/cert-manager/issues/7120",
          "v1.15.0", "CA ClusterIssuer's keypair Secret is not in the cluster resource namespace (cert-manager)",
          "CA_ISSUER_SECRET_NOT_FOUND | the CA ClusterIssuer reads secretName from --cluster-resource-namespace (cert-manager); "
          "the Secret ca-key-pair exists only in 'default': move/copy it there",
          objs, rank=3, note="same mode in #2130, #650, website#278; the Secret exists in namespace default")

    # CA issuer whose certificate is not a CA (isCA missing on the bootstrap Certificate)
    T = D(2021, 7, 14, 10, 0)
    msg = "Error getting keypair for CA issuer: certificate is not a CA"
    objs = stack("v1.4.0", T)
    objs.append(issuer({"selfSigned": {}}, "selfsigned", None, T, reason="IsReady", message=""))
    objs.append(issuer({"ca": {"secretName": "epinio-ca-root"}}, "epinio-ca", None, T, ready=False,
                       reason="ErrInvalidKeyPair", message=msg, at=T - 50 * M, created=T - 51 * M))
    objs.append(event(None, "ClusterIssuer", "epinio-ca", "Warning", "ErrInvalidKeyPair", msg, T - 50 * M, T - 2 * M, 12,
                      component="cert-manager-clusterissuers"))
    nb = T - 51 * M
    root = certificate("epinio-ca", "cert-manager", T, None, ("ClusterIssuer", "selfsigned"), "epinio-ca-root",
                       [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", nb + 5 * S)],
                       created=nb, cn="epinio-ca",
                       status_extra={"notBefore": ts(nb), "notAfter": ts(nb + 90 * DAY), "renewalTime": ts(nb + 60 * DAY),
                                     "revision": 1})
    objs.append(root)
    sec = tls_secret("epinio-ca-root", "cert-manager", nb, "epinio-ca", ("ClusterIssuer", "selfsigned"), [],
                     cn="epinio-ca", nb=nb, na=nb + 90 * DAY)
    objs.append(sec)
    objs += issued_pair(None, "epinio", T, "epinio-api", 1, ("ClusterIssuer", "epinio-ca"), ["epinio.example.test"],
                        T - 45 * M, "Referenced issuer does not have a Ready status condition", cr_pending=True)
    write("ca-issuer-certificate-not-a-ca.yaml", T, "https://github.com/epinio/epinio/pull/613", "v1.4.0",
          "CA issuer's Secret holds a leaf certificate: the bootstrap Certificate lacks isCA: true",
          "CA_ISSUER_KEYPAIR_INVALID | the CA certificate in epinio-ca-root has no CA basic constraint: set spec.isCA: true on "
          "Certificate cert-manager/epinio-ca and re-issue it (proposed as CA_ISSUER_NOT_A_CA)",
          objs, rank=9, note="same message in cert-manager#279; the bootstrap Certificate epinio-ca has no isCA")

    # CA issuer Secret whose key cannot be decoded
    T = D(2022, 7, 5, 9, 0)
    msg = "Error getting keypair for CA issuer: error decoding private key PEM block"
    objs = stack("v1.8.2", T)
    objs.append(issuer({"ca": {"secretName": "linkerd-trust-anchor"}}, "linkerd-trust-anchor", "linkerd", T, ready=False,
                       reason="ErrGetKeyPair", message=msg, at=T - 10 * M, created=T - 10 * M))
    objs.append(event("linkerd", "Issuer", "linkerd-trust-anchor", "Warning", "ErrGetKeyPair", msg, T - 10 * M, T - M, 3,
                      component="cert-manager-issuers"))
    objs.append(event("linkerd", "Issuer", "linkerd-trust-anchor", "Warning", "ErrInitIssuer",
                      "Error initializing issuer: error decoding private key PEM block", T - 10 * M, T - M, 3,
                      component="cert-manager-issuers"))
    objs.append(ca_root_secret("linkerd-trust-anchor", "linkerd", T))
    objs += issued_pair(None, "linkerd", T, "linkerd-identity-issuer", 1, ("Issuer", "linkerd-trust-anchor"),
                        ["identity.linkerd.cluster.local"], T - 9 * M,
                        "Referenced issuer does not have a Ready status condition", cr_pending=True,
                        spec_extra={"isCA": True, "duration": "48h0m0s", "renewBefore": "25h0m0s",
                                    "privateKey": {"algorithm": "ECDSA"}})
    write("ca-issuer-key-not-pem.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5268", "v1.8.2",
          "CA issuer Secret's tls.key is not a PEM private key (written by Terraform in the wrong form)",
          "CA_ISSUER_KEYPAIR_INVALID | tls.key of Secret linkerd/linkerd-trust-anchor is not a PEM-encoded key (double base64 or "
          "raw output); recreate the Secret with kubectl create secret tls",
          objs, rank=14)


# ----------------------------------------------------------------------------- HTTP-01 solver pod

def solver_pod(ns, T, ch_name, version, state, phase="Pending", ready=False, node="node-2"):
    name = "cm-acme-http-solver-" + ch_name[-5:]
    cs = {"image": f"quay.io/jetstack/cert-manager-acmesolver:{version}", "imageID": "", "lastState": {},
          "name": "acmesolver", "ready": ready, "restartCount": 0, "started": False, "state": state}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": md(name, ns, T - 20 * M, labels={"acme.cert-manager.io/http-domain": "3159757414",
                                                         "acme.cert-manager.io/http-token": "607653218",
                                                         "acme.cert-manager.io/http01-solver": "true"},
                           owner=owner("Challenge", ch_name, "acme.cert-manager.io/v1", ns)),
            "spec": {"containers": [{"name": "acmesolver", "image": f"quay.io/jetstack/cert-manager-acmesolver:{version}",
                                     "args": ["--listen-port=8089", "--domain=shop.example.test"]}],
                     "nodeName": node, "restartPolicy": "OnFailure"},
            "status": {"phase": phase, "hostIP": "192.0.2.12", "podIP": "10.244.1.40",
                       "conditions": [{"lastProbeTime": None, "lastTransitionTime": ts(T - 20 * M), "status": "True",
                                       "type": "PodScheduled"},
                                      {"lastProbeTime": None, "lastTransitionTime": ts(T - 20 * M), "status": "False",
                                       "type": "Ready", "reason": "ContainersNotReady",
                                       "message": "containers with unready status: [acmesolver]"}],
                       "containerStatuses": [cs], "startTime": ts(T - 20 * M)}}


def http01_bundles():
    sol = {"http01": {"ingress": {"class": "nginx"}}}
    # solver pod rejected by Pod Security Admission (restricted)
    T = D(2022, 7, 25, 10, 0)
    err = ('pods "cm-acme-http-solver-rvt6g" is forbidden: violates PodSecurity "restricted:latest": unrestricted '
           'capabilities (container "acmesolver" must set securityContext.capabilities.drop=["ALL"]), seccompProfile '
           '(pod or container "acmesolver" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
    objs = stack("v1.9.0", T) + [acme_issuer("letsencrypt", None, T, solvers=[sol]), ingress_class("nginx", T=T),
                                 ingress("shop", "shop", "shop.example.test", "nginx", T, secret="shop-tls",
                                         ann={"cert-manager.io/cluster-issuer": "letsencrypt"})]
    ch, n = acme_chain("shop", T, "shop-tls", ["shop.example.test"], ("ClusterIssuer", "letsencrypt"), ch_type="HTTP-01",
                       solver=sol, ch_reason=err, presented=False,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + err, T - 19 * M, T - M, 41)])
    write("http01-solver-pod-forbidden-psa.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5338", "v1.9.0",
          "HTTP-01 solver Pod cannot be created: namespace enforces Pod Security 'restricted' (acmesolver lacks seccomp/drop ALL)",
          "HTTP01_SOLVER_POD_REJECTED | the namespace's Pod Security admission rejects the acmesolver Pod; "
          "upgrade to >= v1.10.0 (pod.go: first release with seccomp RuntimeDefault + drop ALL) or set solver podTemplate / relax the namespace label",
          objs + ch, rank=6, note="same mode with OPA/Gatekeeper (#3721, #4952), OpenShift SCC (#5839), tektoncd/dashboard#2906")

    # solver pod cannot pull the acmesolver image
    T = D(2024, 3, 22, 9, 0)
    st = {"waiting": {"reason": "ImagePullBackOff",
                      "message": 'Back-off pulling image "quay.io/jetstack/cert-manager-acmesolver:v1.14.4"'}}
    objs = stack("v1.14.4", T) + [acme_issuer("letsencrypt", None, T, solvers=[{"http01": {"ingress": {"ingressClassName": "traefik"}}}]),
                                  ingress_class("traefik", "traefik.io/ingress-controller", T=T),
                                  ingress("shop", "shop", "shop.example.test", "traefik", T, secret="shop-tls",
                                          ann={"cert-manager.io/cluster-issuer": "letsencrypt"})]
    ch, n = acme_chain("shop", T, "shop-tls", ["shop.example.test"], ("ClusterIssuer", "letsencrypt"), ch_type="HTTP-01",
                       solver={"http01": {"ingress": {"ingressClassName": "traefik"}}}, presented=True,
                       ch_reason="Waiting for HTTP-01 challenge propagation: wrong status code '503', expected '200'",
                       ch_events=[("Normal", "Presented", "Presented challenge using HTTP-01 challenge mechanism", T - 20 * M, T - 20 * M, 1)])
    p = solver_pod("shop", T, n["challenge"], "v1.14.4", st)
    ev = event("shop", "Pod", p["metadata"]["name"], "Warning", "Failed",
               'Failed to pull image "quay.io/jetstack/cert-manager-acmesolver:v1.14.4": rpc error: code = Canceled desc = '
               'failed to pull and unpack image "quay.io/jetstack/cert-manager-acmesolver:v1.14.4": failed to resolve '
               'reference "quay.io/jetstack/cert-manager-acmesolver:v1.14.4": dial tcp: lookup quay.io: i/o timeout',
               T - 19 * M, T - 2 * M, 9, component="kubelet", api="v1")
    write("http01-solver-pod-image-pull.yaml", T, "https://github.com/cert-manager/cert-manager/issues/6762", "v1.14.4",
          "HTTP-01 solver Pod stuck in ImagePullBackOff (acmesolver image not pullable: air-gap/registry mirror)",
          "HTTP01_SOLVER_POD_NOT_RUNNING | the 503 comes from the ingress having no ready backend: the acmesolver "
          "Pod cannot pull quay.io/jetstack/cert-manager-acmesolver; mirror it and set --acme-http01-solver-image",
          objs + ch + [p, ev], rank=7)


# ----------------------------------------------------------------------------- components / shims

def component_bundles():
    # webhook down: new CertificateRequest cannot be created at renewal
    T = D(2021, 9, 14, 10, 0)
    objs = stack("v1.5.3", T)
    objs[1] = deployment("cert-manager-webhook", "v1.5.3", T, component="webhook", ready=0)
    objs.append(pod("cert-manager-webhook-6d4b9c8f5-x2kfp", "cert-manager-webhook", "v1.5.3", T, component="webhook",
                    ready=False, restarts=37,
                    state={"waiting": {"reason": "CrashLoopBackOff",
                                       "message": "back-off 5m0s restarting failed container=cert-manager-webhook pod=cert-manager-webhook-6d4b9c8f5-x2kfp_cert-manager"}},
                    last={"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts(T - 6 * M),
                                         "finishedAt": ts(T - 6 * M + 2 * S)}}))
    objs.append(pod("cert-manager-5d7f97b46d-qwd4l", "cert-manager", "v1.5.3", T))
    objs += R.webhook_configs(T, pem("cert-manager-webhook-ca", (), T - 40 * DAY, T + 325 * DAY, ca=True))
    objs.append(acme_issuer("letsencrypt", None, T, solvers=[{"http01": {"ingress": {"class": "nginx"}}}]))
    nb = T - 62 * DAY
    rt = nb + 60 * DAY
    objs.append(certificate("api-tls", "api", T, ["api.example.test"], ("ClusterIssuer", "letsencrypt"), "api-tls",
                            [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", nb + 40 * S),
                             cond("Issuing", "True", "Renewing",
                                  f"Renewing certificate as renewal was scheduled at {rt.strftime('%Y-%m-%d %H:%M:%S +0000 UTC')}",
                                  rt)],
                            created=T - 200 * DAY,
                            status_extra={"notBefore": ts(nb), "notAfter": ts(nb + 90 * DAY), "renewalTime": ts(rt),
                                          "revision": 3, "nextPrivateKeySecretName": "api-tls-8fj2x"}))
    objs.append(tls_secret("api-tls", "api", T - 200 * DAY, "api-tls", ("ClusterIssuer", "letsencrypt"),
                           ["api.example.test"], nb=nb, na=nb + 90 * DAY))
    write("webhook-down-renewal-blocked.yaml", T, "https://github.com/cert-manager/cert-manager/issues/4453", "v1.5.3",
          "cert-manager webhook not running: renewal cannot create the CertificateRequest (failed calling webhook "
          "webhook.cert-manager.io ... connection refused)",
          "WEBHOOK_NOT_RUNNING | the webhook Deployment has no ready Pod (CrashLoopBackOff); every create/update of "
          "cert-manager objects fails, so the renewal never starts; fix the webhook pod (logs) before anything else",
          objs, rank=1, note="same symptom in #3133, #5667, #2602, #5189 (the most reported cert-manager error)\n"
          "renewal due 2 days before capture, no CertificateRequest revision 4 exists")

    # ingress-shim: cluster-issuer annotation naming an Issuer
    T = D(2023, 3, 21, 10, 0)
    objs = stack("v1.11.0", T, controller_kw={"args": ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
                                                       "--leader-election-namespace=kube-system",
                                                       "--default-issuer-name=letsencrypt-prod",
                                                       "--default-issuer-kind=ClusterIssuer"]})
    objs.append(acme_issuer("letsencrypt-prod", "app", T, solvers=[{"http01": {"ingress": {"class": "nginx"}}}]))
    objs.append(ingress_class("nginx", T=T))
    ing = ingress("app", "app", "app.example.test", "nginx", T, secret="app-tls",
                  ann={"cert-manager.io/cluster-issuer": "letsencrypt-prod"})
    objs.append(ing)
    pair = issued_pair("app-tls", "app", T, "app-tls", 1, ("ClusterIssuer", "letsencrypt-prod"), ["app.example.test"],
                       T - 40 * M, 'Referenced "ClusterIssuer" not found: clusterissuer.cert-manager.io "letsencrypt-prod" not found',
                       cr_pending=True)
    pair[0]["metadata"]["ownerReferences"] = [owner("Ingress", "app", "networking.k8s.io/v1", "app")]
    objs += pair
    write("ingress-shim-cluster-issuer-annotation-names-issuer.yaml", T,
          "https://github.com/cert-manager/cert-manager/issues/5873", "v1.11.0",
          "Ingress annotated cert-manager.io/cluster-issuer but only a namespaced Issuer of that name exists",
          "ISSUER_NOT_FOUND | no ClusterIssuer letsencrypt-prod exists, but Issuer app/letsencrypt-prod does: change the "
          "Ingress annotation to cert-manager.io/issuer (or create the ClusterIssuer)",
          objs, rank=4, note="same mode in #280, #283 (v0.2) and the ingress-shim default-issuer-kind confusion (#804)")

    # ingress-shim: annotated Ingress without spec.tls → no Certificate at all
    T = D(2021, 3, 20, 10, 0)
    objs = stack("v1.2.0", T) + [acme_issuer("letsencrypt-staging-cluster-issuer", None, T, server=R.LE_STAGING,
                                             solvers=[{"http01": {"ingress": {"class": "nginx"}}}]),
                                 ingress_class("nginx", T=T),
                                 ingress("goodly-kangaroo-httpserver", "test", "cert-test.example.test", "nginx", T,
                                         ann={"cert-manager.io/cluster-issuer": "letsencrypt-staging-cluster-issuer"})]
    write("ingress-shim-annotated-ingress-without-tls.yaml", T, "https://github.com/cert-manager/cert-manager/issues/405",
          "v1.2.0", "Ingress annotated for cert-manager has no spec.tls, so ingress-shim creates no Certificate (silently)",
          "INGRESS_SHIM_NO_TLS | Ingress test/goodly-kangaroo-httpserver carries "
          "cert-manager.io/cluster-issuer but no spec.tls[].secretName/hosts: add a tls block or nothing is issued",
          objs, rank=5, stuck=False,
          note="report ran v0.2.4 (certmanager.k8s.io annotation); same question in #436, #3779, #1588")

    # Gateway API shim disabled
    T = D(2025, 5, 2, 10, 0)
    gw = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
          "metadata": md("main", "networking", T - 2 * H, generation=1,
                         ann={"cert-manager.io/cluster-issuer": "letsencrypt-prod"}),
          "spec": {"gatewayClassName": "cilium", "listeners": [
              {"name": "http", "port": 80, "protocol": "HTTP"},
              {"name": "https-glance", "hostname": "glance.example.test", "port": 443, "protocol": "HTTPS",
               "allowedRoutes": {"namespaces": {"from": "All"}},
               "tls": {"mode": "Terminate", "certificateRefs": [{"group": "", "kind": "Secret", "name": "glance-tls"}]}}]},
          "status": {"addresses": [{"type": "IPAddress", "value": "203.0.113.20"}],
                     "conditions": [{"lastTransitionTime": ts(T - 2 * H), "message": "Gateway successfully scheduled",
                                     "observedGeneration": 1, "reason": "Accepted", "status": "True", "type": "Accepted"},
                                    {"lastTransitionTime": ts(T - 2 * H), "message": "Gateway successfully reconciled",
                                     "observedGeneration": 1, "reason": "Programmed", "status": "True", "type": "Programmed"}],
                     "listeners": [{"name": "https-glance", "attachedRoutes": 1, "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                                    "conditions": [{"lastTransitionTime": ts(T - 2 * H), "message": "Invalid CertificateRef",
                                                    "observedGeneration": 1, "reason": "InvalidCertificateRef",
                                                    "status": "False", "type": "ResolvedRefs"},
                                                   {"lastTransitionTime": ts(T - 2 * H), "message": "Listener is invalid",
                                                    "observedGeneration": 1, "reason": "Invalid", "status": "False",
                                                    "type": "Programmed"}]}]}}
    objs = stack("v1.17.1", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[
        {"dns01": {"cloudflare": {"apiTokenSecretRef": {"name": "cloudflare-token", "key": "api-token"}}}}]), gw]
    write("gateway-shim-not-enabled.yaml", T, "https://github.com/rwlove/home-ops/pull/11142", "v1.17.1",
          "Gateway annotated cert-manager.io/cluster-issuer but the controller runs without --enable-gateway-api: no Certificate",
          "GATEWAY_SHIM_DISABLED | the gateway-shim is off (no --enable-gateway-api / config.enableGatewayAPI); "
          "the listener's Secret glance-tls is never created; enable it and restart the controller",
          objs, rank=10, stuck=False, note="same in cert-manager/website#1586, cert-manager#6765 comments, google-cas-issuer#262")


# ----------------------------------------------------------------------------- DNS-01

def dns01_bundles():
    # CNAME delegation without cnameStrategy: Follow
    T = D(2025, 9, 19, 10, 0)
    sol = {"dns01": {"route53": {"region": "eu-central-1", "hostedZoneID": "Z0DELEGATED123"}},
           "selector": {"dnsZones": ["example.test"]}}
    msg = ("failed to change Route 53 record set: operation error Route 53: ChangeResourceRecordSets, https response error "
           "StatusCode: 400, RequestID: <REDACTED>, InvalidChangeBatch: [RRSet with DNS name _acme-challenge.test.example.test. "
           "is not permitted in zone letsencrypt.example.test.]")
    objs = stack("v1.18.2", T, controller_kw={"args": ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
                                                       "--leader-election-namespace=kube-system",
                                                       "--issuer-ambient-credentials"]})
    objs += [acme_issuer("letsencrypt-staging-issuer", "web", T, server=R.LE_STAGING, solvers=[sol])]
    ch, n = acme_chain("web", T, "test-tls", ["test.example.test"], ("Issuer", "letsencrypt-staging-issuer"), solver=sol,
                       ch_reason=msg, presented=False,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 13)])
    write("dns01-cname-delegation-without-follow.yaml", T, "https://github.com/cert-manager/cert-manager/issues/8095",
          "v1.18.2", "DNS-01 into a delegated zone via _acme-challenge CNAME, but the solver lacks cnameStrategy: Follow",
          "DNS01_CNAME_NOT_FOLLOWED | _acme-challenge.test.example.test is a CNAME into letsencrypt.example.test; "
          "set dns01.cnameStrategy: Follow so the TXT record is written at the CNAME target (not DNS01_PROVIDER_PERMISSION_DENIED)",
          objs + ch, rank=11, note="IRSA role on the controller, --issuer-ambient-credentials set (the Route 53 call itself succeeds)\nsame family: #1778, #4998 (CNAME followed for SOA), website#2230 (wildcard CNAME)")

    # Cloud DNS project left as a literal placeholder
    T = D(2022, 10, 16, 10, 0)
    sol = {"dns01": {"cloudDNS": {"project": "$PROJECT_ID"}}}
    msg = ('GoogleCloud API call failed: googleapi: Error 403: Permission denied on resource project $PROJECT_ID.\n'
           'Details:\n[\n  {\n    "@type": "type.googleapis.com/google.rpc.Help",\n    "links": [\n      {\n'
           '        "description": "Google developer console API key",\n'
           '        "url": "https://console.developers.google.com/project/$PROJECT_ID/apiui/credential"\n      }\n    ]\n  },\n'
           '  {\n    "@type": "type.googleapis.com/google.rpc.ErrorInfo",\n    "domain": "googleapis.com",\n'
           '    "metadata": {\n      "consumer": "projects/$PROJECT_ID",\n      "service": "dns.googleapis.com"\n    },\n'
           '    "reason": "CONSUMER_INVALID"\n  }\n]\n, forbidden')
    objs = stack("v1.9.1", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[sol])]
    ch, n = acme_chain("apps", T, "app-tls", ["app.example.test"], ("ClusterIssuer", "letsencrypt-prod"), solver=sol,
                       ch_reason=msg, presented=False,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 10)])
    write("dns01-clouddns-project-placeholder.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5512", "v1.9.1",
          "Cloud DNS solver's project is the unexpanded shell placeholder '$PROJECT_ID' (copied from the docs)",
          "DNS01_PROVIDER_CONFIG_INVALID | not an IAM problem: spec.acme.solvers[].dns01.cloudDNS.project is the literal "
          "'$PROJECT_ID' (CONSUMER_INVALID); put the real GCP project id",
          objs + ch, rank=15)

    # Azure DNS managed identity: several user-assigned identities, no clientID
    T = D(2021, 7, 29, 10, 0)
    sol = {"dns01": {"azureDNS": {"subscriptionID": "00000000-0000-0000-0000-000000000000", "resourceGroupName": "rg-dns",
                                  "hostedZoneName": "example.test", "environment": "AzurePublicCloud"}}}
    msg = ('azure.BearerAuthorizer#WithAuthorization: Failed to refresh the Token for request to '
           'https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-dns/providers/'
           'Microsoft.Network/dnsZones/example.test/TXT/_acme-challenge.openjdk-demo?api-version=2017-10-01: StatusCode=400 -- '
           "Original Error: adal: Refresh request failed. Status Code = '400'. Response body: "
           '{"error":"invalid_request","error_description":"Multiple user assigned identities exist, please specify the '
           'clientId / resourceId of the identity in the token request"}')
    objs = stack("v1.4.1", T) + [acme_issuer("letsencrypt", None, T, solvers=[sol])]
    ch, n = acme_chain("default", T, "openjdk-demo-tls", ["openjdk-demo.example.test"], ("ClusterIssuer", "letsencrypt"),
                       solver=sol, ch_reason=msg, presented=False,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 11)])
    write("dns01-azure-managed-identity-ambiguous.yaml", T, "https://github.com/cert-manager/website/issues/662", "v1.4.1",
          "AzureDNS ambient managed identity on a node with several user-assigned identities and no managedIdentity.clientID",
          "DNS01_PROVIDER_CONFIG_INVALID | IMDS cannot pick an identity: set azureDNS.managedIdentity.clientID "
          "(v1.6.0+) to the identity granted DNS Zone Contributor",
          objs + ch, rank=13, note="same family: website#328 ('Identity not found'), cert-manager#4480, #5989")

    # Azure workload identity without DNS rights
    T = D(2023, 1, 23, 10, 0)
    sol = {"dns01": {"azureDNS": {"subscriptionID": "00000000-0000-0000-0000-000000000000", "resourceGroupName": "rg-dns",
                                  "hostedZoneName": "example.test", "environment": "AzurePublicCloud",
                                  "managedIdentity": {"clientID": "11111111-1111-1111-1111-111111111111"}}}}
    msg = ('dns.RecordSetsClient#CreateOrUpdate: Failure responding to request: StatusCode=403 -- Original Error: '
           'autorest/azure: Service returned an error. Status=403 Code="AuthorizationFailed" Message="The client '
           "'22222222-2222-2222-2222-222222222222' with object id '22222222-2222-2222-2222-222222222222' does not have "
           "authorization to perform action 'Microsoft.Network/dnsZones/TXT/write' over scope '/subscriptions/"
           "00000000-0000-0000-0000-000000000000/resourceGroups/rg-dns/providers/Microsoft.Network/dnsZones/example.test/TXT/"
           "_acme-challenge' or the scope is invalid. If access was recently granted, please refresh your credentials.\"")
    objs = stack("v1.10.1", T) + [acme_issuer("letsencrypt", None, T, solvers=[sol])]
    ch, n = acme_chain("web", T, "web-tls", ["web.example.test"], ("ClusterIssuer", "letsencrypt"), solver=sol,
                       ch_reason=msg, presented=False,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 12)])
    write("dns01-azure-workload-identity-403.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5745", "v1.10.1",
          "AzureDNS via workload identity: identity lacks DNS Zone Contributor on the zone",
          "DNS01_PROVIDER_PERMISSION_DENIED | grant DNS Zone Contributor on dnsZones/example.test to the identity "
          "(object id in the message)", objs + ch, rank=12)


# ----------------------------------------------------------------------------- Vault

def vault_issuer(name, ns, T, path="pki_int/sign/example-dot-test", auth=None, ready=True, reason="VaultVerified",
                 message="Vault verified", server="https://vault.example.test:8200", at=None):
    auth = auth or {"kubernetes": {"mountPath": "/v1/auth/kubernetes", "role": "cert-manager",
                                   "secretRef": {"name": "vault-issuer-token", "key": "token"}}}
    return issuer({"vault": {"server": server, "path": path, "auth": auth}}, name, ns, T, ready=ready, reason=reason,
                  message=message, at=at)


def vault_bundles():
    # Vault role rejects the SAN
    T = D(2022, 11, 1, 10, 0)
    objs = stack("v1.10.0", T) + [vault_issuer("vault-issuer", "default", T, path="pki/sign/mysite-dot-com",
                                                server="http://vault.default:8200")]
    msg = ("Vault failed to sign certificate: failed to sign certificate by vault: Error making API request.\n\n"
           "URL: POST http://vault.default:8200/v1/pki/sign/mysite-dot-com\nCode: 400. Errors:\n\n"
           "* subject alternate name mysite.example.test not allowed by this role")
    objs += issued_pair(None, "default", T, "mysite", 1, ("Issuer", "vault-issuer"), ["mysite.example.test"], T - 20 * M, msg)
    objs.append(event("default", "CertificateRequest", "mysite-1", "Warning", "SigningError", msg, T - 20 * M, T - 20 * M, 1))
    write("vault-role-rejects-san.yaml", T, "https://github.com/cert-manager/website/issues/955", "v1.10.0",
          "Vault PKI role refuses the requested name (allowed_domains / allow_subdomains / require_cn)",
          "CERTIFICATE_REQUEST_FAILED | Vault's role pki/roles/mysite-dot-com does not allow mysite.example.test: add it to "
          "allowed_domains (allow_bare_domains/allow_subdomains) — a Vault role change, not a cert-manager one "
          "(PROPOSED:VAULT_ROLE_REJECTS_REQUEST)", objs, rank=8,
          note="same family: cert-manager#4965 (require_cn), #5831")

    # Vault role min key size
    T = D(2024, 1, 22, 10, 53)
    objs = stack("v1.13.3", T) + [vault_issuer("vault-issuer", "istio-system", T, path="pki_int/sign/istio-csr")]
    msg = ("Vault failed to sign certificate: failed to sign certificate by vault: Error making API request. URL: POST "
           "https://vault.example.test:8200/v1/pki_int/sign/istio-csr \nCode: 400. Errors:  * role requires a minimum of a "
           "384-bit key, but CSR's key is 256 bits")
    objs += issued_pair(None, "istio-system", T, "istiod", 1, ("Issuer", "vault-issuer"), ["istiod.istio-system.svc"],
                        T - 10 * M, msg, spec_extra={"privateKey": {"algorithm": "ECDSA", "size": 256}})
    write("vault-role-key-too-small.yaml", T, "https://github.com/cert-manager/istio-csr/issues/246", "v1.13.3",
          "Vault PKI role requires a larger key than the Certificate's privateKey (ECDSA P-256 vs 384-bit minimum)",
          "CERTIFICATE_REQUEST_FAILED | the Certificate's privateKey (ECDSA 256) is below the role's key_bits=384: set "
          "spec.privateKey.size: 384 (PROPOSED:ISSUER_REJECTS_KEY)", objs, rank=18)

    # Vault ClusterIssuer serviceAccountRef: controller lacks RBAC to create tokens
    T = D(2024, 6, 20, 10, 0)
    msg = ('Failed to initialize Vault client: while requesting a Vault token using the Kubernetes auth: while requesting a '
           'token for the service account /vault-test-cert-manager-sa: serviceaccounts "vault-test-cert-manager-sa" is '
           'forbidden: User "system:serviceaccount:cert-manager:cert-manager" cannot create resource "serviceaccounts/token" '
           'in API group "" in the namespace "cert-manager"')
    objs = stack("v1.14.5", T) + [vault_issuer("vault-issuer", None, T, path="test-pki/root/sign-intermediate",
                                                auth={"kubernetes": {"role": "test-cert-manager-auth-role",
                                                                     "mountPath": "/v1/auth/test-cert-manager-auth",
                                                                     "serviceAccountRef": {"name": "vault-test-cert-manager-sa"}}},
                                                ready=False, reason="VaultError", message=msg, at=T - 30 * M)]
    objs.append(event(None, "ClusterIssuer", "vault-issuer", "Warning", "ErrInitIssuer", "Error initializing issuer: " +
                      msg.split(": ", 1)[1], T - 30 * M, T - M, 8, component="cert-manager-clusterissuers"))
    objs += issued_pair(None, "apps", T, "svc-tls", 1, ("ClusterIssuer", "vault-issuer"), ["svc.apps.svc"], T - 25 * M,
                        "Referenced issuer does not have a Ready status condition", cr_pending=True)
    write("vault-serviceaccountref-rbac-missing.yaml", T, "https://github.com/cert-manager/cert-manager/issues/7112",
          "v1.14.5", "Vault kubernetes auth with serviceAccountRef: no Role lets cert-manager create serviceaccounts/token",
          "VAULT_AUTH_FAILED | Kubernetes RBAC, not Vault: create a Role/RoleBinding granting the cert-manager SA "
          "'create' on serviceaccounts/token (resourceNames vault-test-cert-manager-sa) in cert-manager", objs, rank=16)

    # Vault server certificate not trusted
    T = D(2021, 4, 28, 11, 54)
    msg = ('Failed to initialize Vault client: error reading Kubernetes service account token from vault-issuer-token-bhmhx: '
           'error calling Vault server: Post "https://vault.example.test:8200/v1/auth/aks1-test/login": x509: certificate '
           'signed by unknown authority')
    objs = stack("v1.3.1", T) + [vault_issuer("vault-istio-ca1-issuer", "istio-system", T,
                                               auth={"kubernetes": {"mountPath": "/v1/auth/aks1-test", "role": "cert-manager",
                                                                    "secretRef": {"name": "vault-issuer-token-bhmhx", "key": "token"}}},
                                               ready=False, reason="VaultError", message=msg, at=T - 23 * H)]
    objs.append(event("istio-system", "Issuer", "vault-istio-ca1-issuer", "Warning", "VaultError", msg, T - 23 * H, T - 5 * M,
                      40, component="cert-manager-issuers"))
    objs += issued_pair(None, "istio-system", T, "istio-ca", 1, ("Issuer", "vault-istio-ca1-issuer"), ["istio-ca.example.test"],
                        T - 22 * H, "Referenced issuer does not have a Ready status condition", cr_pending=True,
                        spec_extra={"isCA": True})
    write("vault-server-tls-untrusted.yaml", T, "https://github.com/palimarium/istio-vault-ca/issues/1", "v1.3.1",
          "Vault server certificate signed by a private CA, Issuer has no spec.vault.caBundle",
          "ISSUER_SERVER_TLS_UNTRUSTED | TLS trust, not credentials: set spec.vault.caBundle (or caBundleSecretRef) "
          "to the CA that signed vault.example.test (must not be reported as VAULT_AUTH_FAILED alone)", objs, rank=17)

    # Vault returns something that is not a PEM certificate (v1.4.0 bug with Vault 1.7)
    T = D(2021, 6, 25, 14, 0)
    objs = stack("v1.4.0", T) + [vault_issuer("linkerd-trust-anchor", "linkerd", T, path="linkerd/root/sign-intermediate")]
    msg = "Failed to decode returned certificate: error decoding certificate PEM block"
    objs += issued_pair(None, "linkerd", T, "linkerd-identity-issuer", 7, ("Issuer", "linkerd-trust-anchor"),
                        ["identity.linkerd.cluster.local"], T - 3 * M, msg, cr_reason="Failed",
                        spec_extra={"isCA": True, "commonName": "identity.linkerd.cluster.local"})
    write("vault-returned-certificate-undecodable.yaml", T, "https://github.com/cert-manager/cert-manager/issues/4142",
          "v1.4.0", "Vault signs but cert-manager v1.4.0 cannot decode the returned chain (each retry issues a new cert in Vault)",
          "CERTIFICATE_REQUEST_FAILED | known cert-manager v1.4.0 bug with Vault >= 1.7 sign-intermediate responses; "
          "upgrade to v1.4.1+ (PROPOSED:KNOWN_BUG_FIXED_IN_LATER_VERSION)", objs, rank=24)


# ----------------------------------------------------------------------------- external issuers / approval / venafi

def external_bundles():
    # AWS PCA: CertificateRequest never touched (no external issuer controller acting)
    T = D(2021, 6, 28, 10, 0)
    objs = stack("v1.4.0", T)
    objs += issued_pair(None, "default", T, "rsa-cert-2048", 1, ("AWSPCAIssuer", "awspca-issuer"), ["rsa.example.test"],
                        T - 38 * M, "", cr_conds=[], group="awspca.cert-manager.io")
    write("external-issuer-request-never-processed.yaml", T,
          "https://github.com/cert-manager/aws-privateca-issuer/issues/32", "v1.4.0",
          "CertificateRequest for an external issuer (awspca.cert-manager.io) is approved but never gets a Ready condition",
          "EXTERNAL_ISSUER_NOT_RESPONDING | only the aws-privateca-issuer controller can sign it: check that its "
          "Deployment runs, that the AWSPCAIssuer is Ready and that it has RBAC on certificaterequests/status",
          objs, rank=19, note="same shape: google-cas-issuer#48, step-issuer#1, cert-manager#2895")

    # AWS PCA issuer not ready (CR failed with 'issuer is not ready')
    T = D(2023, 10, 5, 10, 0)
    objs = stack("v1.12.4", T)
    objs += issued_pair(None, "default", T, "rsa-cert-2048", 1, ("AWSPCAClusterIssuer", "example"), ["rsa.example.test"],
                        T - 60 * S, "issuer is not ready", group="awspca.cert-manager.io")
    objs.append(event("default", "Certificate", "rsa-cert-2048", "Warning", "Failed",
                      "The certificate request has failed to complete and will be retried: issuer is not ready",
                      T - 60 * S, T - 60 * S, 1, component="cert-manager-certificates-issuing"))
    write("external-issuer-not-ready-awspca.yaml", T, "https://github.com/cert-manager/aws-privateca-issuer/issues/292",
          "v1.12.4", "AWSPCAClusterIssuer not ready (no AWS credentials/IRSA outside EKS); request failed 'issuer is not ready'",
          "EXTERNAL_ISSUER_NOT_READY | the external AWSPCAClusterIssuer 'example' is not Ready: its status/controller logs "
          "say why (AWS credentials); fix it, then the request is retried after backoff (CERTIFICATE_REQUEST_FAILED also reported)",
          objs, rank=20, note="cert-manager Operator for Red Hat OpenShift; AWSPCAClusterIssuer objects are not in the bundle")

    # Google CAS: permission denied
    T = D(2021, 7, 6, 10, 0)
    msg = ("casClient.CreateCertificate failed: rpc error: code = PermissionDenied desc = Permission "
           "'privateca.certificates.create' denied on 'projects/656342222/locations/europe-west1/caPools/PKIpool'")
    objs = stack("v1.4.0", T)
    objs += issued_pair(None, "demo", T, "demo-certificate", 1, ("GoogleCASIssuer", "googlecasissuer-sample"),
                        ["demo.example.test"], T - 30 * M, msg, cr_pending=True, group="cas-issuer.jetstack.io")
    write("external-issuer-google-cas-permission-denied.yaml", T,
          "https://github.com/cert-manager/google-cas-issuer/issues/46", "v1.4.0",
          "google-cas-issuer's GCP service account lacks privateca.certificates.create on the CA pool (workload identity)",
          "EXTERNAL_ISSUER_PERMISSION_DENIED | grant roles/privateca.certificateRequester on caPools/PKIpool to "
          "the GSA bound to the issuer's KSA (workload identity binding)", objs, rank=21,
          note="CertificateRequest Ready message: the issuer's error verbatim, reason Pending (issuer keeps retrying)")

    # approver-policy: no policy applies, request neither approved nor denied
    T = D(2025, 3, 25, 10, 0)
    args = ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)", "--leader-election-namespace=kube-system",
            "--controllers=*,-certificaterequests-approver"]
    objs = stack("v1.17.1", T, controller_kw={"args": args})
    objs.append(issuer({"selfSigned": {}}, "aws-load-balancer-selfsigned-issuer", "kube-system", T, reason="IsReady", message=""))
    crp = {"apiVersion": "policy.cert-manager.io/v1alpha1", "kind": "CertificateRequestPolicy",
           "metadata": md("my-policy", None, T - 2 * DAY, generation=1),
           "spec": {"allowed": {"dnsNames": {"values": ["*"]}}, "selector": {"issuerRef": {}}},
           "status": {"conditions": [{"lastTransitionTime": ts(T - 2 * DAY), "message": "CertificateRequestPolicy is ready for approval evaluation",
                                      "observedGeneration": 1, "reason": "Ready", "status": "True", "type": "Ready"}]}}
    objs.append(crp)
    objs += issued_pair(None, "kube-system", T, "aws-load-balancer-serving-cert", 1,
                        ("Issuer", "aws-load-balancer-selfsigned-issuer"),
                        ["aws-load-balancer-webhook-service.kube-system.svc"], T - 3 * H, "", cr_conds=[], approved=False)
    write("approver-policy-no-applicable-policy.yaml", T, "https://github.com/cert-manager/approver-policy/issues/849",
          "v1.17.1", "approver-policy installed (built-in approver disabled) but no CertificateRequestPolicy applies: no RBAC "
          "'use' binding for the requester",
          "CERTIFICATE_REQUEST_NOT_APPROVED | my-policy is not bound to the requester system:serviceaccount:cert-manager:cert-manager: "
          "add a ClusterRole with verbs [use] on certificaterequestpolicies/my-policy and bind it",
          objs, rank=22, note="same in approver-policy#638 and #165")

    # Venafi Cloud 500
    T = D(2021, 6, 8, 9, 0)
    msg = ("Failed to obtain venafi certificate: failed to retrieve certificate. StatusCode: 500 -- Status: 500 Internal "
           "Server Error")
    objs = stack("v1.3.1", T) + [issuer({"venafi": {"zone": "Default\\Default", "cloud": {
        "apiTokenSecretRef": {"name": "vaas-secret", "key": "apikey"}}}}, "venafi-cloud", "venafi-cloud-long", T,
        reason="Venafi issuer started", message="Venafi issuer started")]
    objs += issued_pair(None, "venafi-cloud-long", T, "random-certificate", 23, ("Issuer", "venafi-cloud"),
                        ["random.example.test"], T - 9 * H, msg, cr_reason="Failed",
                        cert_status_extra={"notBefore": ts(T - 30 * DAY), "notAfter": ts(T + 2 * H),
                                           "renewalTime": ts(T - 9 * H), "revision": 22})
    write("venafi-cloud-500-not-retried.yaml", T, "https://github.com/cert-manager/cert-manager/issues/4082", "v1.3.1",
          "Venafi Cloud answered 500 on retrieval; the CertificateRequest is Failed and the renewal waits on backoff",
          "CERTIFICATE_REQUEST_FAILED | a transient Venafi-side 500 failed the request permanently; with the cert expiring "
          "in 2h, trigger a manual renewal (cmctl renew) rather than wait for backoff", objs, rank=25)


# ----------------------------------------------------------------------------- ACME server trust / CSR

def acme_bundles():
    # private ACME server with an untrusted CA
    T = D(2024, 10, 4, 10, 0)
    msg = ('Failed to register ACME account: Get "https://acme.internal.example.test/acme/directory": tls: failed to verify '
           'certificate: x509: certificate signed by unknown authority')
    iss = acme_issuer("internal-acme", "apps", T, server="https://acme.internal.example.test/acme/directory",
                      solvers=[{"http01": {"ingress": {"ingressClassName": "nginx"}}}], ready=False,
                      reason="ErrRegisterACMEAccount", message=msg, at=T - 10 * M)
    iss["spec"]["acme"]["caBundle"] = pem("Corp Intermediate CA", (), T - 400 * DAY, T + 400 * DAY, ca=True)
    objs = stack("v1.15.3", T) + [iss, event("apps", "Issuer", "internal-acme", "Warning", "ErrRegisterACMEAccount", msg,
                                             T - 10 * M, T - M, 5, component="cert-manager-issuers")]
    objs += issued_pair(None, "apps", T, "app-tls", 1, ("Issuer", "internal-acme"), ["app.internal.example.test"],
                        T - 9 * M, "Referenced issuer does not have a Ready status condition", cr_pending=True)
    write("acme-private-server-untrusted-ca.yaml", T, "https://github.com/cert-manager/cert-manager/issues/7332", "v1.15.3",
          "Private ACME server (step-ca/Boulder) whose TLS chain is not trusted by the controller (caBundle wrong/incomplete)",
          "ISSUER_SERVER_TLS_UNTRUSTED | the network works; TLS verification fails: put the ROOT CA that signed the "
          "ACME server's chain in spec.acme.caBundle (the bundle holds only an intermediate) — not ACME_SERVER_UNREACHABLE",
          objs, rank=2, note="same family: cert-manager#2332 (mount CA), #3273; caBundle here holds an intermediate only")

    # ACME TLS intercepted: LE hostname resolves to the cluster's own ingress (search-domain wildcard)
    T = D(2023, 9, 3, 0, 20)
    msg = ('Failed to register ACME account: Get "https://acme-v02.api.letsencrypt.org/directory": tls: failed to verify '
           'certificate: x509: certificate is valid for 1f13b7337240568fb138b57f85cd786a.41afac4b5eff697757ccfff11ab9b1ec.traefik.default, '
           'not acme-v02.api.letsencrypt.org')
    iss = acme_issuer("cloudflare", None, T, solvers=[{"dns01": {"cloudflare": {"apiTokenSecretRef": {
        "name": "cloudflare-token", "key": "api-token"}}}}], ready=False, reason="ErrRegisterACMEAccount", message=msg,
        at=T - 15 * M)
    iss["status"]["acme"] = {"uri": "https://acme-staging-v02.api.letsencrypt.org/acme/acct/98765432"}
    objs = stack("v1.12.3", T, controller_kw={"ns": "ix-cert-manager",
                                              "args": ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
                                                       "--leader-election-namespace=kube-system"]})
    objs += [iss, event(None, "ClusterIssuer", "cloudflare", "Warning", "ErrRegisterACMEAccount", msg, T - 15 * M, T - M, 6,
                        component="cert-manager-clusterissuers")]
    objs += issued_pair(None, "ix-home", T, "home-tls", 1, ("ClusterIssuer", "cloudflare"), ["home.example.test"], T - 14 * M,
                        "Referenced issuer does not have a Ready status condition", cr_pending=True)
    write("acme-server-tls-intercepted.yaml", T, "https://github.com/trueforge-org/truecharts/issues/12167", "v1.12.3",
          "acme-v02.api.letsencrypt.org answered with the cluster ingress's default certificate (DNS search domain / "
          "wildcard record hijacks the name; ndots:5)",
          "ISSUER_SERVER_TLS_UNTRUSTED | the name resolves to your own Traefik (cert for *.traefik.default): fix "
          "the node/pod DNS search domain or wildcard record (or set dnsConfig ndots:1 on the controller)",
          objs, rank=23, note="ACME_ACCOUNT_SERVER_MISMATCH (staging→prod) is incidental")

    # Let's Encrypt refuses the CSR's public key (reused key on the blocklist)
    T = D(2021, 1, 29, 0, 52)
    reason = ("Failed to finalize Order: 400 urn:ietf:params:acme:error:badPublicKey: Error finalizing order :: invalid "
              "public key in CSR: public key is forbidden")
    cr_msg = ('Failed to wait for order resource "argo-cd-cert-2310246241" to become ready: order is in "errored" state: '
              + reason)
    objs = stack("v1.1.0", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[{"http01": {"ingress": {"class": "nginx"}}}])]
    ch, n = acme_chain("argocd", T, "argo-cd-cert", ["argocd.example.test"], ("ClusterIssuer", "letsencrypt-prod"),
                       solver={}, with_challenge=False, order_state="errored", order_reason=reason,
                       issuing_cond=cond("Issuing", "False", "Failed",
                                         "The certificate request has failed to complete and will be retried: " + cr_msg,
                                         T - 5 * M),
                       order_failure=T - 5 * M, crt_extra_status={"lastFailureTime": ts(T - 5 * M)},
                       cr_ready=[cond("Ready", "False", "Failed", cr_msg, T - 5 * M, with_gen=False)])
    ch[0]["spec"]["secretName"] = "argocd-secret"
    write("acme-csr-public-key-forbidden.yaml", T, "https://github.com/cert-manager/cert-manager/issues/2962", "v1.1.0",
          "Let's Encrypt rejects the CSR key as forbidden: the Certificate reuses a private key from a shared Secret "
          "(argocd-secret) whose key is blocklisted",
          "ACME_ORDER_FAILED | badPublicKey: the key in Secret argocd-secret is on LE's blocklist; use a dedicated secretName "
          "or privateKey.rotationPolicy: Always so a fresh key is generated", objs + ch, rank=26,
          note="report ran v0.15 (2020-05); status as v1.1.0 writes it")


def main():
    for p in HERE.glob("*.yaml"):
        p.unlink()
    ca_bundles()
    http01_bundles()
    component_bundles()
    dns01_bundles()
    vault_bundles()
    external_bundles()
    acme_bundles()
    print(len(WRITTEN), "bundles")


if __name__ == "__main__":
    main()
