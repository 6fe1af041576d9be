"""Shell completion: the engine behind ``kubectl_complete-certdoctor`` and our scripts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from kubectl_certdoctor.completion import complete, script

ROOT = Path(__file__).resolve().parent.parent


def test_subcommands_and_flags() -> None:
    assert complete(["ch"]) == (["check"], 4)
    cands, _ = complete(["check", "--fail"])
    assert cands == ["--fail-on"]
    assert complete(["check", "--fail-on", "w"]) == (["warning"], 4)
    assert complete(["check", "-o", ""])[0] == ["text", "json", "markdown"]
    assert complete(["probe", "--from", "c"])[0] == ["cert-manager"]
    assert "--set" in complete(["fix", "renew", "--s"])[0]


def test_probe_and_fix_ids_come_from_the_registries() -> None:
    from kubectl_certdoctor.fixes.registry import FIXES
    from kubectl_certdoctor.probes.registry import PROBES

    assert set(complete(["probe", ""])[0]) == {"list", *PROBES}
    assert set(complete(["fix", ""])[0]) == {"list", *FIXES}
    cands, directive = complete(["fix", "renew", "cert"])
    assert cands == ["certificate/", "certificaterequest/"] and directive & 2  # no space


def test_contexts_from_the_kubeconfig(tmp_path: Path) -> None:
    kc = tmp_path / "config"
    kc.write_text(yaml.safe_dump({"contexts": [{"name": "prod-eu"}, {"name": "staging"}]}))
    assert complete(["--kubeconfig", str(kc), "--context", "pr"])[0] == ["prod-eu"]


def test_namespaces_never_hang_without_a_cluster(tmp_path: Path) -> None:
    kc = tmp_path / "config"
    kc.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "x", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}]}))
    assert complete(["--kubeconfig", str(kc), "-n", ""]) == ([], 4)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_scripts_are_valid_for_their_shell(shell: str, tmp_path: Path) -> None:
    import shutil

    text = script(shell)
    assert "kubectl-certdoctor __complete" in text
    if shell == "bash":
        f = tmp_path / "c.bash"
        f.write_text(text)
        subprocess.run(["bash", "-n", str(f)], check=True)
    elif shutil.which(shell):
        f = tmp_path / f"c.{shell}"
        f.write_text(text)
        subprocess.run([shell, "-n", str(f)], check=True)


def test_bash_completion_end_to_end(tmp_path: Path) -> None:
    """Source the script in a real bash and ask it to complete ``kubectl-certdoctor ch``."""
    f = tmp_path / "c.bash"
    f.write_text(script("bash"))
    venv_bin = ROOT / ".venv" / "bin"
    out = subprocess.run(
        ["bash", "-c", f'PATH="{venv_bin}:$PATH"; source {f}; COMP_WORDS=(kubectl-certdoctor ch); '
         'COMP_CWORD=1; _kubectl_certdoctor; printf "%s\\n" "${COMPREPLY[@]}"'],
        capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["check"]
