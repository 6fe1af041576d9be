"""cm_semantics.json: the cert-manager facts the rules rely on, as read from its source.

The facts asserted here were also checked by hand against cert-manager's git tags; the
last test regenerates the file from the cert-manager mirror and compares byte for byte.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from kubectl_certdoctor.backoff import DEFAULT_MAX, DEFAULT_MIN, parse_go_duration
from kubectl_certdoctor.rules import semantics
from kubectl_certdoctor.versions import Version, parse_version, vault_retry_fixed

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "scripts" / "gen_cm_semantics.py"
MIRROR = Path("/work/.mirror/cert-manager+cert-manager/repo")

VERIFY = "Failed to verify ACME account: "
REGISTER = "Failed to register ACME account: "


def v(text: str) -> Version:
    parsed = parse_version(text)
    assert parsed is not None
    return parsed


def _value(name: str, version: str) -> semantics.JSONValue:
    f = semantics.fact(name, v(version))
    assert f is not None, f"{name} absent at {version}"
    return f.value


def test_data_ships_in_the_package_and_covers_every_minor() -> None:
    raw = resources.files("kubectl_certdoctor.rules").joinpath("cm_semantics.json").read_text()
    doc = json.loads(raw)
    assert doc["schema"] == 1
    tags = semantics.tags()
    assert {(t.major, t.minor) for t in tags} == {(1, m) for m in range(22)}
    for named in ("v1.16.0", "v1.15.0", "v1.15.1", "v1.14.6", "v1.14.7", "v1.12.11",
                  "v1.12.12", "v1.18.0", "v1.4.0", "v1.21.1"):
        assert v(named) in tags
    assert tags == tuple(sorted(tags))
    assert len(semantics.names()) > 100


def test_tag_lookup() -> None:
    newest = semantics.tags()[-1]
    assert semantics.tag_for(None) == newest
    assert semantics.tag_for(Version(1, 40, 0)) == newest
    assert semantics.tag_for(Version(0, 16, 1)) == semantics.tags()[0]
    assert semantics.tag_for(Version(1, 15, 3)) == Version(1, 15, 1)
    assert semantics.tag_for(Version(1, 15, 0)) == Version(1, 15, 0)
    assert semantics.tag_for(Version(1, 12, 5)) == Version(1, 12, 11)  # minor's oldest
    assert semantics.tag_for(Version(1, 9, 0)) == Version(1, 9, 2)
    with pytest.raises(KeyError):
        semantics.fact("no.such.fact")


def test_citations() -> None:
    assert semantics.cite("acme.setup.message.verify_failed") == \
        f"pkg/issuer/acme/setup.go@{semantics.tags()[-1]}"
    assert semantics.cite("acme.setup.message.verify_failed", Version(1, 3, 0)) == \
        "pkg/issuer/acme/setup.go@v1.3.3"
    # absent at the asked version: cite the newest release that has it
    assert semantics.cite("http01.ingress.path_type_exact", Version(1, 10, 0)).startswith(
        "pkg/issuer/acme/http/ingress.go@v1.")
    with pytest.raises(LookupError):
        semantics.since("issuers.message.error_validating_issuer")


def test_acme_verify_is_the_private_key_read_from_v1_4() -> None:
    assert semantics.template("acme.setup.message.verify_failed") == VERIFY
    assert semantics.template("acme.setup.message.register_failed") == REGISTER
    assert semantics.template("acme.setup.reason.verify_failed") == "ErrVerifyACMEAccount"
    assert semantics.template("acme.setup.reason.register_failed") == "ErrRegisterACMEAccount"
    for tag in semantics.tags():
        if tag < Version(1, 4, 0):
            continue
        read = _value("acme.setup.path.private_key_read_error", str(tag))
        reg = _value("acme.setup.path.registration_error", str(tag))
        assert isinstance(read, dict) and isinstance(reg, dict)
        assert read["messages"] == [VERIFY], tag
        assert read["condition_reasons"] == ["ErrVerifyACMEAccount"], tag
        assert reg["messages"] == [REGISTER], tag
        assert reg["condition_reasons"] == ["ErrRegisterACMEAccount"], tag
        assert semantics.enabled("acme.setup.verify_means_secret_read", tag), tag
    assert semantics.since("acme.setup.path.registration_error") == "v1.0.4"


def test_acme_verify_is_the_registration_up_to_v1_3() -> None:
    for tag in (t for t in semantics.tags() if t < Version(1, 4, 0)):
        reg = _value("acme.setup.path.registration_error", str(tag))
        assert isinstance(reg, dict)
        # the registerAccount error is written as "Failed to verify ..." (condition reason
        # ErrRegisterACMEAccount, Event reason ErrVerifyACMEAccount)
        assert reg["messages"] == [VERIFY], tag
        assert reg["condition_reasons"] == ["ErrRegisterACMEAccount"], tag
        assert reg["event_reasons"] == ["ErrVerifyACMEAccount"], tag
        assert not semantics.enabled("acme.setup.verify_means_secret_read", tag), tag


def test_acme_4xx_at_registration_is_not_retried() -> None:
    assert all(semantics.enabled("acme.setup.registration_4xx_not_retried", t)
               for t in semantics.tags())


@pytest.mark.parametrize(("version", "fixed"), [
    ("v1.16.0", True), ("v1.15.1", True), ("v1.14.7", True), ("v1.12.12", True),
    ("v1.15.0", False), ("v1.14.6", False), ("v1.12.11", False), ("v1.13.6", False),
    ("v1.21.1", True), ("v1.11.5", False),
])
def test_vault_init_retry(version: str, fixed: bool) -> None:
    assert semantics.enabled("vault.certificaterequest.init_error_requeued", v(version)) is fixed
    assert semantics.enabled("vault.certificaterequest.invalid_data_not_requeued",
                             v(version)) is fixed
    assert semantics.template("vault.certificaterequest.init_failed", v(version)) == \
        "Failed to initialise vault client for signing"


def test_vault_retry_table_agrees_with_versions_module() -> None:
    for tag in semantics.tags():
        assert semantics.enabled("vault.certificaterequest.init_error_requeued", tag) \
            == vault_retry_fixed(tag), tag


def test_http01_body_is_compared_exactly() -> None:
    for tag in semantics.tags():
        assert _value("http01.self_check.body_comparison", str(tag)) == "exact", tag
        assert semantics.template("http01.self_check.wrong_status", tag) == \
            "wrong status code '%d', expected '%d'"
        assert semantics.enabled("http01.self_check.redirect_insecure_skip_verify", tag)


def test_exact_path_type_from_v1_18_0() -> None:
    assert semantics.since("http01.ingress.path_type_exact") == "v1.18.0"
    assert not semantics.present("http01.ingress.path_type_exact", v("v1.17.4"))
    for tag in (t for t in semantics.tags() if t >= Version(1, 18, 0)):
        assert semantics.present("http01.ingress.path_type_exact", tag), tag
    # hard-wired in v1.18.0, behind a default-on feature gate from v1.18.1
    assert semantics.since("feature.ACMEHTTP01IngressPathTypeExact") == "v1.18.1"
    assert _value("http01.ingress.path_types", "v1.18.0") == ["Exact"]


def test_shared_secret_name_owner_check_from_v1_14() -> None:
    name = "certificates.trigger.shared_secret_owner_check"
    for tag in semantics.tags():
        if tag >= Version(1, 14, 0):
            assert semantics.present(name, tag), tag
        elif tag < Version(1, 13, 2):
            assert not semantics.present(name, tag), tag
    # backported into the v1.13 line at v1.13.2
    assert semantics.present(name, v("v1.13.2"))
    assert semantics.since(name) == "v1.13.2"
    f = semantics.fact(name, v("v1.14.0"))
    assert f is not None and f.file == "pkg/controller/certificates/trigger/trigger_controller.go"


def test_backoff_defaults_match_the_backoff_module() -> None:
    shape = _value("certificates.trigger.backoff", str(semantics.tags()[-1]))
    assert isinstance(shape, dict)
    assert shape["kind"] == "exponential"
    assert parse_go_duration(str(shape["min_default"])) == DEFAULT_MIN
    assert parse_go_duration(str(shape["max_default"])) == DEFAULT_MAX
    assert shape["min_le_zero_disables"] is True
    assert semantics.enabled("certificates.trigger.backoff_skipped_when_spec_changed")
    old = _value("certificates.trigger.backoff", "v1.7.3")
    assert isinstance(old, dict) and old["kind"] == "fixed"


def test_messages_the_rules_quote() -> None:
    assert semantics.template("certificates.issuing.failed_message") == \
        "The certificate request has failed to complete and will be retried: %s"
    assert semantics.template("acmechallenges.message.waiting_propagation") == \
        "Waiting for %s challenge propagation: %s"
    assert semantics.template("dns01.soa_not_found", v("v1.3.3")) == \
        "Could not find the start of authority"
    renewing = _value("certificates.policy.renewing", "v1.21.1")
    assert renewing == [{"reason": "Renewing",
                         "template": "Renewing certificate as renewal was scheduled at %s"}]


@pytest.mark.skipif(not MIRROR.is_dir(),
                    reason=f"cert-manager git mirror not available at {MIRROR}")
def test_generator_reproduces_the_shipped_file() -> None:
    proc = subprocess.run([sys.executable, str(GENERATOR), "--repo", str(MIRROR), "--stdout"],
                          capture_output=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    shipped = (ROOT / "kubectl_certdoctor" / "rules" / "cm_semantics.json").read_bytes()
    assert proc.stdout == shipped, "cm_semantics.json is stale: run scripts/gen_cm_semantics.py"
