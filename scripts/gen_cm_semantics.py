#!/usr/bin/env python3
"""Regenerate kubectl_certdoctor/rules/cm_semantics.json from cert-manager's own source.

The diagnosis rules quote cert-manager's messages and rely on its behaviour (what is
retried, which reason goes with which message, when a fix landed). Both change between
releases, so instead of trusting memory this script reads the Go source at every release
tag and records, per tag, what the code says and the file where it says it:

    .venv/bin/python scripts/gen_cm_semantics.py [--repo PATH] [--out PATH] [--check]

Tags: the latest patch release of every minor v1.0 ... v1.21, plus the patch releases
where a behaviour changed inside a minor (EXTRA_TAGS). Nothing about cert-manager is
hard-coded here except where to look (candidate file paths, moved between pkg/ and
internal/ over the years) and what to look for (a regex, or a small analysis function
for facts that depend on the structure of the code). A pattern that is not found at a
tag is recorded as absent, never guessed.

Python 3.11 standard library only; the output is sorted and byte-for-byte
deterministic (tests/test_semantics.py regenerates it and compares).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_REPO = Path("/work/.mirror/cert-manager+cert-manager/repo")
OUT = Path(__file__).resolve().parent.parent / "kubectl_certdoctor" / "rules" / "cm_semantics.json"
SCHEMA = 1
FIRST_MINOR, LAST_MINOR = 0, 21

#: patch releases (besides the latest patch of each minor) where a behaviour changed:
#: the Vault retry fix (#7105: v1.16.0, backports v1.15.1 / v1.14.7 / v1.12.12) and the
#: releases just before it, "verify" moving to the private-key read (v1.4.0), the
#: shared-secretName owner check (v1.14.0, backported to v1.13.2) and the Exact
#: pathType (hard-wired in v1.18.0, behind a feature gate from v1.18.1).
EXTRA_TAGS: tuple[str, ...] = (
    "v1.4.0",
    "v1.12.11", "v1.12.12",
    "v1.13.1", "v1.13.2",
    "v1.14.0", "v1.14.6",
    "v1.15.0", "v1.15.1",
    "v1.16.0",
    "v1.18.0", "v1.18.1",
)

_RELEASE = re.compile(r"^v1\.(\d+)\.(\d+)$")

# --------------------------------------------------------------------------- git access


class Repo:
    """Read files at tags through one long-lived `git cat-file --batch` process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: dict[tuple[str, str], str | None] = {}
        self._ls_cache: dict[tuple[str, str], list[str]] = {}
        self._proc = subprocess.Popen(
            ["git", "-C", str(path), "cat-file", "--batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()

    def _git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.path), *args],
            check=True, capture_output=True, text=True,
        ).stdout

    def tags(self) -> list[str]:
        return self._git("tag", "--list", "v1.*").split()

    def commit(self, tag: str) -> str:
        return self._git("rev-list", "-n", "1", tag).strip()

    def show(self, tag: str, path: str) -> str | None:
        key = (tag, path)
        if key not in self._cache:
            assert self._proc.stdin and self._proc.stdout
            self._proc.stdin.write(f"{tag}:{path}\n".encode())
            self._proc.stdin.flush()
            header = self._proc.stdout.readline().decode().split()
            if len(header) != 3 or header[1] != "blob":
                self._cache[key] = None
            else:
                size = int(header[2])
                data = self._proc.stdout.read(size)
                self._proc.stdout.read(1)  # trailing newline
                self._cache[key] = data.decode("utf-8", errors="replace")
        return self._cache[key]

    def go_files(self, tag: str, directory: str) -> list[str]:
        """Non-test .go files under a directory at a tag (sorted)."""
        key = (tag, directory)
        if key not in self._ls_cache:
            try:
                out = self._git("ls-tree", "-r", "--name-only", tag, "--", directory)
            except subprocess.CalledProcessError:
                out = ""
            self._ls_cache[key] = sorted(
                p for p in out.split()
                if p.endswith(".go") and not p.endswith("_test.go")
            )
        return self._ls_cache[key]


def release_tags(repo: Repo) -> list[str]:
    """Latest patch of each minor FIRST_MINOR..LAST_MINOR, plus EXTRA_TAGS, version order."""
    latest: dict[int, tuple[int, str]] = {}
    existing = set()
    for tag in repo.tags():
        m = _RELEASE.match(tag)
        if not m:
            continue
        existing.add(tag)
        minor, patch = int(m.group(1)), int(m.group(2))
        if FIRST_MINOR <= minor <= LAST_MINOR and patch >= latest.get(minor, (-1, ""))[0]:
            latest[minor] = (patch, tag)
    missing = [t for t in EXTRA_TAGS if t not in existing]
    if missing:
        raise SystemExit(f"tags not in the repository: {', '.join(missing)}")
    chosen = {tag for _, tag in latest.values()} | set(EXTRA_TAGS)
    return sorted(chosen, key=tag_key)


def tag_key(tag: str) -> tuple[int, int, int]:
    major, minor, patch = tag.lstrip("v").split(".")
    return int(major), int(minor), int(patch)


# --------------------------------------------------------------------------- Go source helpers

_CONCAT = re.compile(r'"[ \t]*\+[ \t]*\n?[ \t]*"')
_STRING_CONST = re.compile(r'^\s*(\w+)\s+(?:string\s+)?=\s*"((?:[^"\\\n]|\\.)*)"', re.M)


def normalize(src: str) -> str:
    """Fold Go string concatenations ("a " +\\n "b" → "a b") so a message reads as one literal."""
    return _CONCAT.sub("", src)


def go_unquote(body: str) -> str:
    """The value of the inside of a Go interpreted string literal."""
    table = {"n": "\n", "t": "\t", "\\": "\\", '"': '"'}
    return re.sub(r"\\(.)", lambda m: table.get(m.group(1), "\\" + m.group(1)), body)


def string_consts(src: str) -> dict[str, str]:
    return {m.group(1): go_unquote(m.group(2)) for m in _STRING_CONST.finditer(normalize(src))}


def _skip_literal(src: str, i: int) -> int:
    """Index just after the string/rune literal or comment starting at i (else i)."""
    c = src[i]
    if c in "\"'":
        j = i + 1
        while j < len(src) and src[j] != c:
            j += 2 if src[j] == "\\" else 1
        return j + 1
    if c == "`":
        return src.index("`", i + 1) + 1
    if src.startswith("//", i):
        nl = src.find("\n", i)
        return len(src) if nl < 0 else nl
    if src.startswith("/*", i):
        return src.index("*/", i + 2) + 2
    return i


def matching(src: str, open_idx: int) -> int:
    """Index of the bracket closing the one at open_idx (skips literals and comments)."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = [pairs[src[open_idx]]]
    i = open_idx + 1
    while i < len(src):
        j = _skip_literal(src, i)
        if j != i:
            i = j
            continue
        c = src[i]
        if c in pairs:
            stack.append(pairs[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return i
        i += 1
    raise ValueError("unbalanced brackets")


def block_after(src: str, idx: int) -> str | None:
    """The `{ ... }` block starting at the first brace at or after idx."""
    i = idx
    while i < len(src):
        j = _skip_literal(src, i)
        if j != i:
            i = j
            continue
        if src[i] == "{":
            return src[i:matching(src, i) + 1]
        i += 1
    return None


def call_args(src: str, open_paren: int) -> list[str]:
    """Top-level arguments of the call whose '(' is at open_paren."""
    end = matching(src, open_paren)
    args, depth, start, i = [], 0, open_paren + 1, open_paren + 1
    while i < end:
        j = _skip_literal(src, i)
        if j != i:
            i = j
            continue
        c = src[i]
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif c == "," and depth == 0:
            args.append(src[start:i].strip())
            start = i + 1
        i += 1
    if src[start:end].strip():
        args.append(src[start:end].strip())
    return args


def top_level_cases(block: str) -> list[tuple[str, str]]:
    """(condition, body) of each `case` of a `switch { ... }` block."""
    out: list[tuple[str, str]] = []
    depth, i, marks = 0, 1, []
    while i < len(block) - 1:
        j = _skip_literal(block, i)
        if j != i:
            i = j
            continue
        c = block[i]
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif depth == 0 and re.match(r"(case\s|default:)", block[i:]) and block[i - 1] in " \t\n":
            marks.append(i)
        i += 1
    marks.append(len(block) - 1)
    for a, b in itertools.pairwise(marks):
        chunk = block[a:b]
        head, _, body = chunk.partition(":\n")
        out.append((head.strip(), body))
    return out


def duration(expr: str) -> str | None:
    """'32 * time.Hour' → '32h'; 'time.Hour' → '1h'."""
    m = re.fullmatch(r"\s*(?:(\d+)\s*\*\s*)?time\.(Hour|Minute|Second)\s*", expr)
    if not m:
        return None
    return f"{int(m.group(1) or 1)}{ {'Hour': 'h', 'Minute': 'm', 'Second': 's'}[m.group(2)] }"


# --------------------------------------------------------------------------- fact tables

_STR = r'(?:[^"\\\n]|\\.)'  # one character of a Go interpreted string literal


def lit(phrase: str) -> str:
    """Regex for the whole Go string literal containing the regex fragment `phrase`."""
    return rf'"({_STR}*?{phrase}{_STR}*)"'


def const(name: str) -> str:
    """Regex for the value of a Go string constant (or var) named `name`."""
    return rf'\b{name}\s+(?:string\s+)?=\s*"({_STR}*)"'


def reporter(phrase: str) -> tuple[str, ...]:
    """A CertificateRequest controller message and the Reporter call that writes it."""
    return (
        rf'message\s*:?=\s*(?:fmt\.Sprintf\()?"(?P<template>{_STR}*?{phrase}{_STR}*)"[^\n]*\n'
        rf'(?:[^\n]*\n){{0,4}}?\s*\w+\.reporter\.(?P<reporter>Pending|Failed)\(cr,\s*\w+,\s*'
        rf'"(?P<event_reason>\w+)"',
        rf'\w+\.reporter\.(?P<reporter>Pending|Failed)\(cr,\s*\w+,\s*"(?P<event_reason>\w+)",'
        rf'\s*(?:fmt\.Sprintf\()?"(?P<template>{_STR}*?{phrase}{_STR}*)"',
    )


def policy(reason: str) -> str:
    """A Certificate policy check: its reason and every message template returned with it."""
    return (
        rf'(?:return\s+|reason\s*:?=\s*)(?P<reason>"?{reason}"?)\s*(?:,|\n\s*message\s*:?=)\s*'
        rf'(?:fmt\.Sprintf\()?"(?P<template>{_STR}*)"'
    )


@dataclass(frozen=True)
class Fact:
    """One regex fact: evaluated at each tag over the candidate files, first match wins.

    Value: the named groups (a dict) if the regex has any, else group 1, else True.
    mode "all" collects every match in the first file that matches (a list).
    Groups named in `resolve` may hold a Go identifier: it is replaced by the string
    constant of that name from the candidate files or `consts_from`.
    """

    name: str
    description: str
    paths: tuple[str, ...]
    regex: str | tuple[str, ...]
    mode: str = "first"
    resolve: tuple[str, ...] = ()
    consts_from: tuple[str, ...] = ()


@dataclass
class Record:
    present: bool
    file: str | None = None
    value: Any = None
    evidence: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"present": self.present}
        if self.present:
            out["file"] = self.file
            out["value"] = self.value
        if self.evidence is not None:
            out["evidence"] = self.evidence
        return out


# file paths (candidates: the same code lived in different places over time)
ACME_SETUP = ("pkg/issuer/acme/setup.go",)
HTTP01 = ("pkg/issuer/acme/http/http.go",)
INGRESS = ("pkg/issuer/acme/http/ingress.go",)
FEATURES = ("internal/controller/feature/features.go", "pkg/feature/features.go")
CHALLENGES = ("pkg/controller/acmechallenges/sync.go",)
CHALLENGE_READY = ("pkg/controller/acmechallenges/readiness.go",
                   "pkg/controller/acmechallenges/sync.go")
ORDERS = ("pkg/controller/acmeorders/sync.go",)
DNS = ("pkg/issuer/acme/dns/dns.go",)
ROUTE53 = ("pkg/issuer/acme/dns/route53/route53.go",)
AZUREDNS = ("pkg/issuer/acme/dns/azuredns/azuredns.go",)
DNS_UTIL = ("pkg/issuer/acme/dns/util/wait.go",)
RFC2136 = ("pkg/issuer/acme/dns/rfc2136/rfc2136.go", "pkg/issuer/acme/dns/rfc2136/tsig.go",
           "pkg/issuer/acme/dns/rfc2136/provider.go")
WEBHOOK = ("pkg/issuer/acme/dns/webhook/webhook.go",)
FORKED_ACME = ("third_party/forked/acme/types.go",)
CR_ACME = ("pkg/controller/certificaterequests/acme/acme.go",)
CR_CA = ("pkg/controller/certificaterequests/ca/ca.go",)
CR_VAULT = ("pkg/controller/certificaterequests/vault/vault.go",)
CR_SELFSIGNED = ("pkg/controller/certificaterequests/selfsigned/selfsigned.go",)
CSR_VAULT = ("pkg/controller/certificatesigningrequests/vault/vault.go",)
CR_REPORTER = ("pkg/controller/certificaterequests/util/reporter.go",)
CR_TYPES = ("pkg/apis/certmanager/v1/types_certificaterequest.go",)
VAULT_CLIENT = ("internal/vault/vault.go", "pkg/internal/vault/vault.go")
VAULT_SETUP = ("pkg/issuer/vault/setup.go",)
CA_SETUP = ("pkg/issuer/ca/setup.go",)
ISSUERS = ("pkg/controller/issuers/sync.go", "pkg/controller/clusterissuers/sync.go")
POLICIES = ("internal/controller/certificates/policies/checks.go",
            "pkg/controller/certificates/trigger/policies/policies.go")
POLICY_CONSTS = ("internal/controller/certificates/policies/constants.go",
                 "pkg/controller/certificates/trigger/policies/constants.go")
ISSUING = ("pkg/controller/certificates/issuing/issuing_controller.go",)
READINESS = ("pkg/controller/certificates/readiness/readiness_controller.go",)
KEYMANAGER = ("pkg/controller/certificates/keymanager/keymanager_controller.go",)
TRIGGER = ("pkg/controller/certificates/trigger/trigger_controller.go",)
SECRET_OWNER = ("internal/controller/certificates/certificates.go",)
CTL_RENEW = ("cmd/ctl/pkg/renew/renew.go",)
CONTROLLER_FLAGS = ("cmd/controller/app/options/options.go",
                    "internal/apis/config/controller/v1alpha1/defaults.go")
CONTROLLER_DEFAULTS = ("internal/apis/config/controller/v1alpha1/defaults.go",)
BACKOFF_FIXED = (*TRIGGER, "pkg/controller/certificates/util.go")


def _acme_const(key: str, name: str, what: str) -> Fact:
    return Fact(f"acme.setup.{key}", what, ACME_SETUP, const(name))


FACTS: tuple[Fact, ...] = (
    # ---- ACME account set-up (Issuer Ready condition) ----
    _acme_const("message.verify_failed", "messageAccountVerificationFailed",
                "prefix of the Issuer Ready message when the ACME account cannot be verified"),
    _acme_const("message.register_failed", "messageAccountRegistrationFailed",
                "prefix of the Issuer Ready message when the ACME account cannot be registered"),
    _acme_const("message.update_failed", "messageAccountUpdateFailed",
                "prefix when updating the ACME account (email) fails"),
    _acme_const("message.registered", "messageAccountRegistered",
                "Issuer Ready=True message once the ACME account is registered"),
    _acme_const("reason.register_failed", "errorAccountRegistrationFailed",
                "reason constant errorAccountRegistrationFailed"),
    _acme_const("reason.verify_failed", "errorAccountVerificationFailed",
                "reason constant errorAccountVerificationFailed"),
    _acme_const("reason.update_failed", "errorAccountUpdateFailed",
                "reason constant errorAccountUpdateFailed"),
    _acme_const("reason.registered", "successAccountRegistered",
                "Issuer Ready=True reason once the ACME account is registered"),
    Fact("acme.setup.message.host_differ",
         "log line when the server URL host and the account URI host differ (re-registers)",
         ACME_SETUP, lit("ACME server URL host and ACME private key registration host differ")),
    Fact("acme.setup.message.invalid_private_key",
         "message when the account private key Secret holds invalid data (not retried)",
         ACME_SETUP, (const("messageInvalidPrivateKey"), lit("Account private key is invalid: "))),
    Fact("acme.setup.message.not_rsa", "message when the account private key is not RSA",
         ACME_SETUP, (const("messageTemplateNotRSA"),
                      lit("ACME private key in %q is not of type RSA"))),
    Fact("acme.setup.message.key_generation_disabled",
         "message when disableAccountKeyGeneration is set and the key Secret is missing",
         ACME_SETUP, (const("messageNoSecretKeyGenerationDisabled"),
                      lit("set to true, but the secret was not found"))),
    Fact("acme.setup.message.v1_endpoint", "message for an ACME v1 server URL",
         ACME_SETUP, (const("messageTemplateUpdateToV2"),
                      lit("Your ACME server URL is set to a v1 endpoint"))),
    Fact("acme.setup.message.eab_key_invalid",
         "message when the EAB MAC key Secret is missing/invalid",
         ACME_SETUP, (const("messageTemplateFailedToGetEABKey"),
                      lit("External Account Binding MAC key is invalid"))),
    # ---- Vault ----
    Fact("vault.certificaterequest.init_failed",
         "CertificateRequest message when the Vault client cannot be initialised",
         CR_VAULT, reporter("Failed to initialise vault client for signing")),
    Fact("vault.certificaterequest.secret_missing",
         "CertificateRequest message when a Secret referenced by the Vault issuer is missing",
         CR_VAULT, reporter("Required secret resource not found")),
    Fact("vault.certificaterequest.sign_failed",
         "CertificateRequest message when Vault refuses to sign",
         CR_VAULT, reporter("Vault failed to sign certificate")),
    Fact("vault.certificatesigningrequest.init_failed",
         "CertificateSigningRequest message when the Vault client cannot be initialised",
         CSR_VAULT, lit("Failed to initialise vault client for signing")),
    Fact("vault.client.invalid_data_errors",
         "errors the Vault client builder marks InvalidData (configuration errors)",
         VAULT_CLIENT, rf'NewInvalidData\(\s*"({_STR}*)"', mode="all"),
    Fact("vault.issuer.message.verified", "Issuer Ready=True message", VAULT_SETUP,
         const("messageVaultVerified")),
    Fact("vault.issuer.reason.verified", "Issuer Ready=True reason", VAULT_SETUP,
         const("successVaultVerified")),
    Fact("vault.issuer.reason.error", "Issuer Ready=False reason", VAULT_SETUP,
         const("errorVault")),
    Fact("vault.issuer.message.client_init_failed", "Issuer message: client cannot be built",
         VAULT_SETUP, const("messageVaultClientInitFailed")),
    Fact("vault.issuer.message.health_failed",
         "Issuer message: Vault health/initialised-and-unsealed check failed",
         VAULT_SETUP, (const("messageVaultInitializedAndUnsealedFailed"),
                       const("messageVaultHealthCheckFailed"))),
    Fact("vault.issuer.message.sealed", "Issuer message: Vault not initialised or sealed",
         VAULT_SETUP, const("messageVaultStatusVerificationFailed")),
    Fact("vault.issuer.health_check_condition_message",
         "what the Issuer Ready message is when the initialised/unsealed check fails",
         VAULT_SETUP, r"IsVaultInitializedAndUnsealed\(\); err != nil \{[^}]*?SetIssuerCondition\("
         r"[^\n]*errorVault, (?P<message>[^\n]+)\)\s*\n", resolve=("message",)),
    # ---- CA / issuers ----
    Fact("ca.issuer.message.get_keypair_failed", "CA Issuer message: keypair Secret unreadable",
         CA_SETUP, const("messageErrorGetKeyPair")),
    Fact("ca.issuer.message.invalid_keypair", "CA Issuer message: invalid signing keypair",
         CA_SETUP, const("messageErrorInvalidKeyPair")),
    Fact("ca.issuer.message.verified", "CA Issuer Ready=True message", CA_SETUP,
         const("messageKeyPairVerified")),
    Fact("ca.issuer.reason.get_keypair_failed", "CA Issuer reason", CA_SETUP,
         const("errorGetKeyPair")),
    Fact("ca.issuer.reason.invalid_keypair", "CA Issuer reason", CA_SETUP,
         const("errorInvalidKeyPair")),
    Fact("ca.issuer.reason.verified", "CA Issuer Ready=True reason", CA_SETUP,
         const("successKeyPairVerified")),
    Fact("issuers.reason.init_failed", "Event reason when Issuer Setup returns an error",
         ISSUERS, const("errorInitIssuer")),
    Fact("issuers.message.init_failed", "Event message prefix when Issuer Setup returns an error",
         ISSUERS, const("messageErrorInitIssuer")),
    Fact("issuers.message.validation_failed",
         "Issuer Ready message when the controller's own validation fails (reason ConfigError)",
         ISSUERS, lit("Resource validation failed")),
    Fact("issuers.message.error_validating_issuer",
         "the wording 'error validating issuer' (looked for; recorded absent if never written)",
         ISSUERS + ACME_SETUP + CA_SETUP + VAULT_SETUP, lit("(?i:error validating issuer)")),
    # ---- HTTP-01 ----
    Fact("http01.self_check.wrong_status", "self-check error for a non-200 answer", HTTP01,
         lit("wrong status code")),
    Fact("http01.self_check.unexpected_body", "self-check error for a body that is not the key",
         HTTP01, lit("did not get expected response when querying endpoint")),
    Fact("http01.self_check.request_failed", "self-check error when the GET itself fails",
         HTTP01, lit("failed to perform self check GET request")),
    Fact("http01.self_check.redirect_insecure_skip_verify",
         "the self-check client skips TLS verification (HTTPS redirects to invalid certs)",
         HTTP01, r"TLSClientConfig:\s*&tls\.Config\{[^}]*InsecureSkipVerify:\s*true\b"),
    Fact("http01.ingress.path_types", "pathType values the solver Ingress can use",
         INGRESS, r"networkingv1\.PathType(\w+)\b", mode="all"),
    Fact("http01.ingress.path_type_exact", "solver Ingress can use pathType Exact", INGRESS,
         r"networkingv1\.PathType(Exact)\b"),
    Fact("feature.ACMEHTTP01IngressPathTypeExact", "feature gate spec (default, maturity)",
         FEATURES, r"\bACMEHTTP01IngressPathTypeExact:\s*\{([^}]*)\}"),
    Fact("acmechallenges.message.waiting_propagation",
         "Challenge.status.reason while the self-check fails (%s = HTTP-01 / DNS-01)",
         CHALLENGE_READY, lit("Waiting for %s challenge propagation")),
    # ---- DNS-01 ----
    Fact("dns01.message.not_yet_propagated", "DNS-01 self-check error (after 'Waiting for ...')",
         DNS, lit("not yet propagated")),
    Fact("dns01.clouddns.service_account_error", "CloudDNS service account Secret unreadable",
         DNS, lit("error getting clouddns service account")),
    Fact("dns01.message.instantiating_solver", "errors building a DNS-01 provider", DNS,
         lit("error instantiating [\\w ]+ challenge solver"), mode="all"),
    Fact("dns01.route53.hosted_zone", "Route53: hosted zone lookup failed", ROUTE53,
         lit("(?i:failed to determine Route 53 hosted zone ID)")),
    Fact("dns01.route53.zone_not_found", "Route53: zone not found", ROUTE53,
         lit("(?i:zone %s not found in Route 53)")),
    Fact("dns01.route53.remove_request_id", "Route53 strips AWS request ids from errors",
         ROUTE53, r"func (removeReqID)\("),
    Fact("dns01.azuredns.stabilize_error", "AzureDNS wraps errors to keep the message stable",
         AZUREDNS, r"func (stabilizeError)\("),
    Fact("dns01.soa_not_found", "zone (SOA) lookup failed", DNS_UTIL,
         lit("Could not find the (?:SOA record|start of authority)")),
    Fact("dns01.rfc2136.unsupported_algorithm", "RFC2136: TSIG algorithm not supported",
         RFC2136, lit("(?i:algorithm '%v' is not supported)")),
    Fact("dns01.rfc2136.tsig_secret_decode", "RFC2136: TSIG secret is not valid base64",
         RFC2136, lit("error decoding the provided TSIG secret")),
    Fact("dns01.rfc2136.update_failed", "RFC2136: DNS UPDATE refused", RFC2136,
         lit("DNS update failed. Server replied")),
    Fact("dns01.rfc2136.update_error", "RFC2136: DNS UPDATE error", RFC2136,
         lit("DNS update failed: ")),
    Fact("dns01.webhook.no_result", "webhook solver answered without success nor result",
         WEBHOOK, lit("invalid payload response")),
    Fact("dns01.webhook.decode_config", "webhook solver config cannot be decoded", WEBHOOK,
         lit("error decoding solver config")),
    Fact("dns01.webhook.not_found_handling",
         "special handling of 'the server could not find the requested resource' (APIService "
         "not served) in the webhook solver",
         WEBHOOK, r"(could not find the requested resource|IsNotFound\()"),
    # ---- Challenge / Order controllers ----
    Fact("acmechallenges.message.present_error_event", "Event (PresentError) when Present fails",
         CHALLENGES, lit("Error presenting challenge")),
    Fact("acmechallenges.present_error_status_reason",
         "what Challenge.status.reason is set to when Present fails",
         CHALLENGES, r"Error presenting challenge[^\n]*\n(?:\s*//[^\n]*\n)*"
         r"\s*ch\.Status\.Reason = ([^\n]+)"),
    Fact("acmechallenges.redactions", "provider SDK errors redacted in Challenge.status.reason",
         CHALLENGES, lit("<redacted [^\"]*"), mode="all"),
    Fact("acmechallenges.message.cleanup_error", "clean-up failure message", CHALLENGES,
         lit("Error cleaning up challenge")),
    Fact("acmechallenges.message.accept_challenge", "Challenge reason when accepting fails",
         CHALLENGES, lit("Error accepting challenge")),
    Fact("acmechallenges.authorization_invalid",
         "an AuthorizationError marks the Challenge 'invalid' with this reason",
         CHALLENGES, rf'ch\.Status\.State = cmacme\.(?P<state>Invalid)\s*\n\s*ch\.Status\.Reason = '
         rf'fmt\.Sprintf\("(?P<template>Error accepting authorization{_STR}*)"'),
    Fact("acmechallenges.malformed_marks_expired",
         "an ACME 'malformed' problem marks the Challenge 'expired' (order is retried)",
         CHALLENGES, r'urn:ietf:params:acme:error:malformed"(?:\s*\{|:)\s*ch\.Status\.State = '
         r"cmacme\.(Expired)"),
    Fact("acmechallenges.client_error_reason", "Challenge reason for other 4xx ACME errors",
         CHALLENGES, r"StatusCode < 500 \{\s*ch\.Status\.State = cmacme\.Errored\s*"
         rf'ch\.Status\.Reason = fmt\.Sprintf\("({_STR}*)"'),
    Fact("acmechallenges.non_acme_error_reason", "Challenge reason for a non-ACME error (Errored)",
         CHALLENGES, lit("unexpected non-ACME API error")),
    Fact("acmechallenges.transient_errors_retried",
         "transient network errors are retried instead of marking the Challenge errored",
         CHALLENGES, r"if (isTransientACMEError)\(err\)"),
    Fact("acmechallenges.message.domain_verified", "Challenge reason once valid", CHALLENGES,
         lit("Successfully authorized domain")),
    Fact("acme.authorization_error_format",
         "text of an ACME AuthorizationError (in-tree fork of x/crypto/acme; earlier releases "
         "used the vendored golang.org/x/crypto module, not in this repository)",
         FORKED_ACME, lit("acme: authorization error for")),
    Fact("acmeorders.message.retrieve_failed", "Order reason when the ACME order cannot be fetched",
         ORDERS, lit("Failed to retrieve Order resource")),
    Fact("acmeorders.message.create_failed", "Order reason when creating the ACME order fails",
         ORDERS, lit("Failed to create Order: ")),
    Fact("acmeorders.message.finalize_failed", "Order reason when finalizing fails", ORDERS,
         lit("Failed to finalize Order")),
    Fact("acmeorders.message.fetch_authorization_failed", "Order reason", ORDERS,
         lit("Failed to fetch authorization")),
    Fact("acmeorders.message.no_solver", "Event when no solver matches the Order's domains",
         ORDERS, lit("Failed to determine a valid solver configuration")),
    # ---- CertificateRequests ----
    Fact("certificaterequests.reason.pending", "Ready=False reason while waiting", CR_TYPES,
         const("CertificateRequestReasonPending")),
    Fact("certificaterequests.reason.failed", "Ready=False terminal reason", CR_TYPES,
         const("CertificateRequestReasonFailed")),
    Fact("certificaterequests.reason.issued", "Ready=True reason", CR_TYPES,
         const("CertificateRequestReasonIssued")),
    Fact("certificaterequests.reason.denied", "Ready=False reason when denied", CR_TYPES,
         const("CertificateRequestReasonDenied")),
    Fact("certificaterequests.condition.invalid_request", "the InvalidRequest condition type",
         CR_TYPES, r'CertificateRequestConditionInvalidRequest\s+CertificateRequestConditionType'
         r'\s*=\s*"(\w+)"'),
    Fact("certificaterequests.reporter.message_format",
         "how the Reporter joins a controller message and the error (Failed / Pending)",
         CR_REPORTER, rf'message = fmt\.Sprintf\("({_STR}*)", message, err\)'),
    Fact("certificaterequests.message.denied", "Ready message of a denied request", CR_REPORTER,
         lit("denied by an approval controller")),
    Fact("certificaterequests.message.issued", "Ready=True message", CR_REPORTER,
         const("readyMessage")),
    Fact("certificaterequests.acme.build_order_failed", "ACME CR: order cannot be built", CR_ACME,
         reporter("Failed to build order")),
    Fact("certificaterequests.acme.order_failed", "ACME CR: the Order failed", CR_ACME,
         reporter("Failed to wait for order resource")),
    Fact("certificaterequests.acme.order_failed_error", "ACME CR: error appended to order_failed",
         CR_ACME, lit("order is in %q state")),
    Fact("certificaterequests.acme.waiting_on_order", "ACME CR: waiting on the Order", CR_ACME,
         reporter("Waiting on certificate issuance from order")),
    Fact("certificaterequests.acme.order_created", "ACME CR: Order created", CR_ACME,
         reporter("Created Order resource")),
    Fact("certificaterequests.acme.invalid_common_name", "ACME CR: CN not in dnsNames", CR_ACME,
         reporter("The CSR PEM requests a commonName that is not present")),
    Fact("certificaterequests.ca.secret_not_found", "CA CR: CA Secret missing", CR_CA,
         reporter("Referenced secret %s/%s not found")),
    Fact("certificaterequests.ca.secret_invalid", "CA CR: CA Secret unparsable", CR_CA,
         reporter("Failed to parse signing CA keypair from secret")),
    Fact("certificaterequests.ca.signing_error", "CA CR: signing failed", CR_CA,
         reporter("Error signing certificate")),
    Fact("certificaterequests.selfsigned.secret_not_found", "SelfSigned CR: key Secret missing",
         CR_SELFSIGNED, reporter("Referenced secret %s/%s not found")),
    Fact("certificaterequests.selfsigned.missing_annotation",
         "SelfSigned CR: private key annotation missing", CR_SELFSIGNED,
         reporter("Annotation %q missing or reference empty")),
    # ---- Certificates ----
    Fact("certificates.policy.does_not_exist", "reason/message: Secret missing", POLICIES,
         policy("DoesNotExist"), mode="all", resolve=("reason",), consts_from=POLICY_CONSTS),
    Fact("certificates.policy.missing_data", "reason/messages: Secret lacks data", POLICIES,
         policy("MissingData"), mode="all", resolve=("reason",), consts_from=POLICY_CONSTS),
    Fact("certificates.policy.invalid_key_pair", "reason/messages: key/cert invalid or mismatched",
         POLICIES, policy("InvalidKeyPair"), mode="all", resolve=("reason",),
         consts_from=POLICY_CONSTS),
    Fact("certificates.policy.secret_mismatch", "reason/messages: Secret out of date with spec",
         POLICIES, policy("SecretMismatch"), mode="all", resolve=("reason",),
         consts_from=POLICY_CONSTS),
    Fact("certificates.policy.incorrect_issuer", "reason/message: issued by another issuer",
         POLICIES, policy("IncorrectIssuer"), mode="all", resolve=("reason",),
         consts_from=POLICY_CONSTS),
    Fact("certificates.policy.incorrect_certificate",
         "reason/message: Secret issued for another Certificate (shared secretName)",
         POLICIES, policy("IncorrectCertificate"), mode="all", resolve=("reason",),
         consts_from=POLICY_CONSTS),
    Fact("certificates.policy.request_changed", "reason/message: CertificateRequest out of date",
         POLICIES, policy("RequestChanged"), mode="all", resolve=("reason",),
         consts_from=POLICY_CONSTS),
    Fact("certificates.policy.renewing", "reason/message: renewal time reached", POLICIES,
         policy("Renewing"), mode="all", resolve=("reason",), consts_from=POLICY_CONSTS),
    Fact("certificates.policy.expired", "reason/message: certificate expired", POLICIES,
         policy("Expired"), mode="all", resolve=("reason",), consts_from=POLICY_CONSTS),
    Fact("certificates.issuing.failed_message",
         "Issuing=False after a failed CertificateRequest (reason copied from the request)",
         ISSUING, rf'reason\s*=\s*(?P<reason>[\w.]+)\s*\n\s*message\s*=\s*fmt\.Sprintf\('
         rf'"(?P<template>The certificate request has failed to complete{_STR}*)"'),
    Fact("certificates.issuing.fails_on_denied", "a Denied request fails the issuance",
         ISSUING, r"if apiutil\.(CertificateRequestIsDenied)\(req\) \{\s*"
         r"return c\.failIssueCertificate"),
    Fact("certificates.issuing.fails_on_invalid_request",
         "an InvalidRequest condition fails the issuance", ISSUING,
         r"if apiutil\.(CertificateRequestHasInvalidRequest)\(req\) \{\s*"
         r"return c\.failIssueCertificate"),
    Fact("certificates.readiness.ready", "Ready=True reason and message", READINESS,
         rf'Reason:\s*(?P<reason>"?\w+"?),\s*Message:\s*"(?P<template>{_STR}*)"',
         resolve=("reason",)),
    Fact("certificates.keymanager.rotation_never_mismatch",
         "Event when rotationPolicy Never keeps a key that no longer matches the spec",
         KEYMANAGER, rf'Eventf\(crt, corev1\.EventTypeWarning, (?P<reason>\w+), '
         rf'"(?P<template>{_STR}*does not match requirements on Certificate resource{_STR}*)"',
         resolve=("reason",)),
    Fact("certificates.trigger.backoff_message", "log line while backing off a failed issuance",
         TRIGGER, lit("(?:Backing off from issuance|Not re-issuing certificate as an attempt)")),
    Fact("certificates.trigger.shared_secret_owner_check",
         "the trigger skips Certificates that are not the owner of a shared secretName",
         TRIGGER, r"(?s)(?P<function>CertificateOwnsSecret)\(ctx.*?if !isOwner \{.*?Info\("
         rf'"(?P<log>{_STR}*)".*?scheduledWorkQueue\.Add\(key, (?P<requeue>[^)]*)\)'),
    Fact("certificates.secret_owner.rule", "how the owner of a shared Secret is chosen",
         SECRET_OWNER, r"func (CertificateOwnsSecret)\("),
    Fact("certificates.manually_triggered",
         "Issuing reason written by `cmctl renew` (cmctl moved out of this repository later)",
         CTL_RENEW, rf'"(?P<reason>ManuallyTriggered)",\s*"(?P<template>{_STR}*)"'),
    Fact("controller.flag.certificate_request_minimum_backoff_duration",
         "controller flag for the minimum (initial) backoff", CONTROLLER_FLAGS,
         r'"(certificate-request-minimum-backoff-duration)"'),
    Fact("controller.flag.certificate_request_maximum_backoff_duration",
         "controller flag for the maximum backoff", CONTROLLER_FLAGS,
         r'"(certificate-request-maximum-backoff-duration)"'),
)


# --------------------------------------------------------------------------- evaluation


def _files(repo: Repo, tag: str, paths: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    for p in paths:
        if p.endswith("/"):
            for f in repo.go_files(tag, p):
                src = repo.show(tag, f)
                if src is not None:
                    out.append((f, src))
        else:
            src = repo.show(tag, p)
            if src is not None:
                out.append((p, src))
    return out


def _value(m: re.Match[str], consts: dict[str, str], resolve: Sequence[str]) -> Any:
    groups = m.groupdict()
    if groups:
        out: dict[str, Any] = {}
        for k, v in groups.items():
            if v is None:
                continue
            if k in resolve:
                v = v[1:-1] if v.startswith('"') else consts.get(v, v)
            else:
                v = go_unquote(v)
            out[k] = v
        return out
    if m.re.groups:
        return go_unquote(m.group(1))
    return True


def evaluate_fact(repo: Repo, tag: str, fact: Fact) -> Record:
    regexes = (fact.regex,) if isinstance(fact.regex, str) else fact.regex
    files = _files(repo, tag, fact.paths)
    consts: dict[str, str] = {}
    for _, src in files + _files(repo, tag, fact.consts_from):
        for k, v in string_consts(src).items():
            consts.setdefault(k, v)
    for path, raw in files:
        src = normalize(raw)
        for rx in regexes:
            pattern = re.compile(rx, re.M)
            if fact.mode == "all":
                values: list[Any] = []
                for each in pattern.finditer(src):
                    v = _value(each, consts, fact.resolve)
                    if v not in values:
                        values.append(v)
                if values:
                    return Record(True, path, values)
            else:
                found = pattern.search(src)
                if found:
                    return Record(True, path, _value(found, consts, fact.resolve))
    return Record(False)


# --------------------------------------------------------------------------- special analyses


@dataclass(frozen=True)
class Special:
    """A structural analysis producing several facts at once (name → description)."""

    facts: dict[str, str]
    paths: tuple[str, ...]
    run: Callable[[Repo, str], dict[str, Record]]


def _summary(chunk: str, consts: dict[str, str]) -> dict[str, list[str]]:
    """Messages (message* constants), condition reasons and event reasons used in a chunk."""
    def add(lst: list[str], token: str) -> None:
        token = token.strip()
        v = token[1:-1] if token.startswith('"') else consts.get(token, token)
        if v not in lst:
            lst.append(v)

    messages: list[str] = []
    cond: list[str] = []
    events: list[str] = []
    for m in re.finditer(r"\b(message[A-Z]\w*)\b", chunk):
        add(messages, m.group(1))
    message_exprs: list[str] = []
    for m in re.finditer(r"SetIssuerCondition\(", chunk):
        args = call_args(chunk, m.end() - 1)
        if len(args) >= 2:
            add(cond, args[-2])
            message_exprs.append(args[-1])
    # condition reason/message set through a result struct (v1.19+) or deferred
    # variables (v1.4 ... v1.18)
    for m in re.finditer(r"\breason(?::|\s*=)\s*(\w+)", chunk):
        add(cond, m.group(1))
    message_exprs += re.findall(r"\b(?:msg|message)(?::|\s*=)\s*([^\n]+)", chunk)
    for expr in message_exprs:
        for lit_m in re.finditer(rf'"({_STR}*)"', expr):
            text = go_unquote(lit_m.group(1))
            if not re.fullmatch(r"(?:%[a-z])*", text) and text not in messages:
                messages.append(text)
    for m in re.finditer(r"recorder\.Eventf?\(", chunk):
        args = call_args(chunk, m.end() - 1)
        if len(args) >= 3:
            add(events, args[2])
    return {"messages": messages, "condition_reasons": cond, "event_reasons": events}


_KEY_READ = re.compile(r"pk, err :?= (?:kube\.SecretTLSKeyRef|a\.keyFromSecret)\(")
_REGISTER = re.compile(r"account, err :?= a\.registerAccount\(")


def acme_setup(repo: Repo, tag: str) -> dict[str, Record]:
    path = ACME_SETUP[0]
    raw = repo.show(tag, path)
    names = SPECIALS_ACME.facts
    if raw is None:
        return {n: Record(False) for n in names}
    src = normalize(raw)
    consts = string_consts(src)
    out: dict[str, Record] = {}

    read = _KEY_READ.search(src)
    cases: dict[str, str] = {}
    if read:
        switch = block_after(src, read.end())
        for cond, body in top_level_cases(switch or ""):
            if "DisableAccountKeyGeneration && apierrors.IsNotFound(err)" in cond:
                key = ("private_key_missing_generation_disabled" if not cond.startswith("case !")
                       else "private_key_generation_error")
            elif "IsInvalidData(err)" in cond:
                key = "private_key_invalid_data"
            elif cond == "case err != nil":
                key = "private_key_read_error"
            else:
                continue
            cases[key] = body
    for key in ("private_key_read_error", "private_key_generation_error",
                "private_key_missing_generation_disabled", "private_key_invalid_data"):
        name = f"acme.setup.path.{key}"
        if key in cases:
            out[name] = Record(True, path, _summary(cases[key], consts),
                               evidence=_KEY_READ.pattern)
        else:
            out[name] = Record(False)

    reg = _REGISTER.search(src)
    reg_block = block_after(src, reg.end()) if reg else None
    if reg_block is not None:
        out["acme.setup.path.registration_error"] = Record(
            True, path, _summary(reg_block, consts), evidence=_REGISTER.pattern)
        four = re.search(r"acmeErr\.StatusCode >= 400 && acmeErr\.StatusCode < 500", reg_block)
        if four:
            inner = block_after(reg_block, four.end()) or ""
            absorbed = bool(re.search(r"\breturn nil\b|\berr:\s*nil\b", inner))
            out["acme.setup.registration_4xx_not_retried"] = Record(
                True, path, absorbed, evidence=four.group(0))
        else:
            out["acme.setup.registration_4xx_not_retried"] = Record(False)
    else:
        out["acme.setup.path.registration_error"] = Record(False)
        out["acme.setup.registration_4xx_not_retried"] = Record(False)

    verify = consts.get("messageAccountVerificationFailed")
    read_rec = out["acme.setup.path.private_key_read_error"]
    reg_rec = out["acme.setup.path.registration_error"]
    if verify and read_rec.present and reg_rec.present:
        on_read = verify in read_rec.value["messages"]
        on_reg = verify in reg_rec.value["messages"]
        out["acme.setup.verify_means_secret_read"] = Record(
            True, path, on_read and not on_reg,
            evidence=f"verify message on private-key read: {on_read}; "
                     f"on registerAccount error: {on_reg}")
    else:
        out["acme.setup.verify_means_secret_read"] = Record(False)
    return out


def vault_retry(repo: Repo, tag: str) -> dict[str, Record]:
    path = CR_VAULT[0]
    raw = repo.show(tag, path)
    anchor = "Failed to initialise vault client for signing"
    if raw is None or anchor not in raw:
        return {n: Record(False) for n in SPECIALS_VAULT.facts}
    src = normalize(raw)
    at = src.index(anchor)
    start = src.rfind("if err != nil {", 0, at)
    block = block_after(src, start) or ""
    requeue = re.search(r"\breturn nil, err\b", block)
    inv = re.search(r"if cmerrors\.IsInvalidData\(err\)", block)
    inv_block = block_after(block, inv.end()) if inv else None
    return {
        "vault.certificaterequest.init_error_requeued": Record(
            True, path, bool(requeue),
            evidence=requeue.group(0) if requeue
            else "no 'return nil, err' in the init error block"),
        "vault.certificaterequest.invalid_data_not_requeued": Record(
            True, path, bool(inv_block and "return nil, nil" in inv_block),
            evidence=inv.group(0) if inv else "no IsInvalidData check in the init error block"),
    }


def _fixed_retry(repo: Repo, tag: str) -> tuple[str, str] | None:
    """(file, duration expression) of the fixed one-hour retry (before the exponential backoff)."""
    for path in BACKOFF_FIXED:
        src = repo.show(tag, path)
        m = re.search(r"\b[rR]etryAfterLastFailure\s*=\s*([^\n]+)", src or "")
        if m:
            return path, m.group(1).strip()
    return None


def backoff(repo: Repo, tag: str) -> dict[str, Record]:
    path = TRIGGER[0]
    raw = repo.show(tag, path)
    if raw is None:
        return {n: Record(False) for n in SPECIALS_BACKOFF.facts}
    src = normalize(raw)
    consts_dur: dict[str, str] = {}
    for m in re.finditer(r"^\s*(\w+)\s*=\s*([^\n/]+?)\s*(?://[^\n]*)?$", src, re.M):
        consts_dur[m.group(1)] = m.group(2)
    fn_at = src.find("func shouldBackoffReissuingOnFailure(")
    body = block_after(src, src.index(")", fn_at)) if fn_at >= 0 else None
    shape: dict[str, Any] = {}
    extra_files: list[str] = []
    pow_m = re.search(
        r"(\w+)\s*:?=\s*([\w.]+)\s*\*\s*time\.Duration\(math\.Pow\(2,\s*"
        r"float64\(([^)]*)\)\)\)", src)
    if pow_m:
        shape["kind"] = "exponential"
        shape["formula"] = f"{pow_m.group(2)} * 2^({pow_m.group(3).strip()})"
        stop = re.search(r"if failedIssuanceAttempts > (\w+) \{\s*delay = (\w+)", src)
        cap2 = re.search(r"if (\w+) < initialDelay \|\| \1 > maxDelay \{\s*delay = maxDelay", src)
        if stop:
            shape["cap"] = f"attempts > {stop.group(1)} ({consts_dur.get(stop.group(1), '?')}) " \
                           f"-> {stop.group(2)}"
        elif cap2:
            shape["cap"] = "delay > maxDelay (or overflow) -> maxDelay"
        fixed_min = re.search(r"initialDelay := ([^\n]+)", src)
        shape["min_configurable"] = fixed_min is None
        if fixed_min:
            shape["min_default"] = duration(fixed_min.group(1))
        if "maxDelay" in consts_dur:
            shape["max_default"] = duration(consts_dur["maxDelay"])
            shape["max_configurable"] = False
        else:
            shape["max_configurable"] = "maxDelay time.Duration" in src
    elif fixed := _fixed_retry(repo, tag):
        shape["kind"] = "fixed"
        shape["min_default"] = duration(fixed[1])
        if fixed[0] != path:
            extra_files.append(fixed[0])
        shape["max_default"] = shape["min_default"]
        shape["min_configurable"] = False
        shape["max_configurable"] = False
    defaults = repo.show(tag, CONTROLLER_DEFAULTS[0])
    files = [path, *extra_files]
    if defaults is not None:
        for key, bound in (("min_default", "Minimum"), ("max_default", "Maximum")):
            rx = rf"defaultCertificateRequest{bound}BackoffDuration\s*=\s*([^\n]+)"
            dm = re.search(rx, defaults)
            if dm and key not in shape:
                shape[key] = duration(dm.group(1))
                if CONTROLLER_DEFAULTS[0] not in files:
                    files.append(CONTROLLER_DEFAULTS[0])
    if shape:
        shape["min_le_zero_disables"] = bool(re.search(r"if initialDelay <= 0 \{", src))
        shape["files"] = files
    skip = None
    scope = body if body is not None else src
    mm = re.search(r"RequestMatchesSpec\(nextCR, crt\.Spec\)", scope)
    if mm:
        after = scope[mm.end():]
        skip = bool(re.search(r"if len\(mismatches\) > 0 \{[^}]*return false, 0", after))
    return {
        "certificates.trigger.backoff": Record(bool(shape), path, shape or None),
        "certificates.trigger.backoff_skipped_when_spec_changed": Record(
            True, path, bool(skip),
            evidence="RequestMatchesSpec(nextCR, crt.Spec) mismatches -> return false, 0"
            if skip else "no spec/next-request comparison before backing off"),
    }


def http01_body(repo: Repo, tag: str) -> dict[str, Record]:
    path = HTTP01[0]
    raw = repo.show(tag, path)
    m = re.search(r"if\s+([^{\n]*presentedKey[^{\n]*?)\s*!=\s*key\s*\{", normalize(raw or ""))
    if not m:
        return {"http01.self_check.body_comparison": Record(False)}
    expr = m.group(1).strip()
    mode = "trimmed" if "Trim" in expr else "exact"
    return {"http01.self_check.body_comparison":
            Record(True, path, mode, evidence=f"{expr} != key")}


SPECIALS_ACME = Special(
    {
        "acme.setup.path.private_key_read_error":
            "account key Secret read fails (not NotFound): messages and reasons written",
        "acme.setup.path.private_key_generation_error":
            "account key Secret missing and generating a key fails",
        "acme.setup.path.private_key_missing_generation_disabled":
            "account key Secret missing with disableAccountKeyGeneration",
        "acme.setup.path.private_key_invalid_data": "account key Secret holds invalid data",
        "acme.setup.path.registration_error":
            "registerAccount (ACME new-account / lookup) fails: messages and reasons written",
        "acme.setup.registration_4xx_not_retried":
            "a 4xx ACME error from registerAccount is absorbed (no requeue)",
        "acme.setup.verify_means_secret_read":
            "'Failed to verify ACME account' is written only on the private-key Secret read "
            "path (not on the registerAccount error)",
    },
    ACME_SETUP, acme_setup,
)
SPECIALS_VAULT = Special(
    {
        "vault.certificaterequest.init_error_requeued":
            "a Vault client init error is returned (the CertificateRequest is requeued)",
        "vault.certificaterequest.invalid_data_not_requeued":
            "an InvalidData init error (issuer misconfiguration) is not requeued",
    },
    CR_VAULT, vault_retry,
)
SPECIALS_BACKOFF = Special(
    {
        "certificates.trigger.backoff": "shape and defaults of the issuance backoff",
        "certificates.trigger.backoff_skipped_when_spec_changed":
            "no backoff when the spec no longer matches the next CertificateRequest",
    },
    BACKOFF_FIXED + CONTROLLER_DEFAULTS, backoff,
)
SPECIALS_HTTP01 = Special(
    {"http01.self_check.body_comparison":
     "how the self-check compares the body with the key ('exact' or 'trimmed')"},
    HTTP01, http01_body,
)
SPECIALS: tuple[Special, ...] = (SPECIALS_ACME, SPECIALS_VAULT, SPECIALS_BACKOFF, SPECIALS_HTTP01)


# --------------------------------------------------------------------------- output


@dataclass
class FactOut:
    description: str
    paths: tuple[str, ...]
    by_tag: dict[str, Record] = field(default_factory=dict)

    def as_json(self, tags: Sequence[str]) -> dict[str, Any]:
        changes: list[dict[str, Any]] = []
        prev: Any = object()
        for t in tags:
            rec = self.by_tag[t]
            state = (rec.present, rec.file, json.dumps(rec.value, sort_keys=True))
            if state != prev:
                change: dict[str, Any] = {"tag": t, "present": rec.present}
                if rec.present:
                    change["file"] = rec.file
                    change["value"] = rec.value
                changes.append(change)
            prev = state
        present = [t for t in tags if self.by_tag[t].present]
        return {
            "description": self.description,
            "paths": list(self.paths),
            "first_present": present[0] if present else None,
            "changes": changes,
            "by_tag": {t: self.by_tag[t].as_json() for t in tags},
        }


def generate(repo_path: Path) -> str:
    repo = Repo(repo_path)
    try:
        tags = release_tags(repo)
        facts: dict[str, FactOut] = {}
        for f in FACTS:
            if f.name in facts:
                raise SystemExit(f"duplicate fact {f.name}")
            facts[f.name] = FactOut(f.description, f.paths + f.consts_from)
        for s in SPECIALS:
            for name, desc in s.facts.items():
                if name in facts:
                    raise SystemExit(f"duplicate fact {name}")
                facts[name] = FactOut(desc, s.paths)
        for tag in tags:
            for f in FACTS:
                facts[f.name].by_tag[tag] = evaluate_fact(repo, tag, f)
            for s in SPECIALS:
                for name, rec in s.run(repo, tag).items():
                    facts[name].by_tag[tag] = rec
        doc = {
            "schema": SCHEMA,
            "source": {
                "repository": "https://github.com/cert-manager/cert-manager",
                "generator": "scripts/gen_cm_semantics.py",
                "tags": tags,
                "commits": {t: repo.commit(t) for t in tags},
            },
            "facts": {name: facts[name].as_json(tags) for name in sorted(facts)},
        }
    finally:
        repo.close()
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repo", type=Path, default=DEFAULT_REPO,
                    help=f"cert-manager git directory (default: {DEFAULT_REPO})")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output file (default: {OUT})")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the output file is not up to date")
    ap.add_argument("--stdout", action="store_true", help="write the JSON to stdout")
    args = ap.parse_args(argv)
    if not args.repo.is_dir():
        print(f"no cert-manager repository at {args.repo}", file=sys.stderr)
        return 2
    text = generate(args.repo)
    if args.stdout:
        sys.stdout.buffer.write(text.encode("utf-8"))
        return 0
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run scripts/gen_cm_semantics.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
