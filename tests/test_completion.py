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


def _shell_path() -> str:
    """PATH for a completing shell: the venv's kubectl-certdoctor first, no other venv."""
    return f"{ROOT / '.venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin"


def test_zsh_completion_runs_in_a_real_zsh(tmp_path: Path) -> None:
    """zsh runs the script's function with ``words``/``CURRENT`` as its completion system
    sets them; ``compadd`` (a builtin of zsh's completion widgets, unusable outside one) is
    replaced by a function that prints what it was given."""
    import shutil

    if not shutil.which("zsh"):
        pytest.skip("zsh is not installed (Debian: apt-get install zsh)")
    f = tmp_path / "c.zsh"
    f.write_text(script("zsh"))
    prog = (
        f'compdef() {{ : }}; _files() {{ print FILES }}\n'
        'compadd() { local -a names; while (( $# )); do\n'
        '  case $1 in -a) names+=(${(P)2}); shift 2;; -S) print NOSPACE; shift 2;;'
        ' *) shift;; esac; done; print -l -- $names }\n'
        f'source {f}\n'
        'words=(kubectl-certdoctor "$@"); CURRENT=${#words}; _kubectl_certdoctor\n')
    env = {"PATH": _shell_path(), "HOME": str(tmp_path)}

    def comp(*words: str) -> list[str]:
        out = subprocess.run(["zsh", "-f", "-c", prog, "zsh", *words], env=env,
                             capture_output=True, text=True, timeout=60, check=True)
        return out.stdout.split()

    assert comp("ch") == ["check"]
    assert comp("check", "--fail-on", "w") == ["warning"]
    assert comp("fix", "renew", "cert") == ["NOSPACE", "certificate/", "certificaterequest/"]
    assert comp("--kubeconfig", "") == ["FILES"]  # directive 0, no candidates: files


def test_fish_completion_runs_in_a_real_fish(tmp_path: Path) -> None:
    """``complete -C`` runs fish's own completion machinery on a command line."""
    import shutil

    if not shutil.which("fish"):
        pytest.skip("fish is not installed (Debian: apt-get install fish)")
    f = tmp_path / "c.fish"
    f.write_text(script("fish"))
    env = {"PATH": _shell_path(), "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}

    def comp(line: str) -> list[str]:
        out = subprocess.run(["fish", "--no-config", "-c", f"source {f}; complete -C '{line}'"],
                             env=env, capture_output=True, text=True, timeout=60, check=True)
        return [ln.split("\t")[0] for ln in out.stdout.splitlines()]

    assert comp("kubectl-certdoctor ch") == ["check"]
    assert comp("kubectl-certdoctor probe --from c") == ["cert-manager"]
    assert comp("kubectl-certdoctor completion ") == ["bash", "fish", "kubectl", "zsh"]


def bash_complete_kubectl(words: list[str], env: dict[str, str], kubectl: str = "kubectl",
                          ) -> list[str]:
    """``kubectl WORDS<TAB>`` in a real bash with kubectl's own completion script loaded
    (``kubectl completion bash``, with bash-completion's helpers when installed, as in a
    user's shell): kubectl runs ``kubectl_complete-certdoctor`` for the plugin's words."""
    bc = "/usr/share/bash-completion/bash_completion"
    # without the bash-completion package kubectl's script needs _get_comp_words_by_ref
    shim = (f"source {bc}" if Path(bc).exists() else
            '_get_comp_words_by_ref() { cur=${COMP_WORDS[COMP_CWORD]}; '
            'prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }')
    prog = (f'{shim}\nsource <({kubectl} completion bash)\n'
            'COMP_WORDS=(kubectl "$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n'
            'COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}\n'
            '__start_kubectl kubectl; printf "%s\\n" "${COMPREPLY[@]}"\n')
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog, "bash", *words],
                         env=env, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.split()


@pytest.mark.slow  # kubectl comes from scripts/testbin (built on first use)
def test_kubectl_completes_the_plugin_through_the_printed_helper(tmp_path: Path) -> None:
    """``completion kubectl`` saved on PATH as ``kubectl_complete-certdoctor`` is what krew
    users install: kubectl's own bash completion then completes ``kubectl certdoctor``."""
    from tests.support.controlplane import locate_testbin

    kubectl = locate_testbin() / "kubectl"
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    helper = helper_dir / "kubectl_complete-certdoctor"
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "kubectl-certdoctor"), "completion",
                          "kubectl"], capture_output=True, text=True, check=True)
    helper.write_text(out.stdout)
    helper.chmod(0o755)
    venv_bin = ROOT / ".venv" / "bin"
    # only the venv's kubectl-certdoctor, not its kubectl_complete-certdoctor console script
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "kubectl-certdoctor").symlink_to(venv_bin / "kubectl-certdoctor")
    env = {"PATH": f"{helper_dir}:{plugin_dir}:{kubectl.parent}:/usr/bin:/bin",
           "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    assert bash_complete_kubectl(["certdoctor", "ch"], env) == ["check"]
    assert bash_complete_kubectl(["certdoctor", "check", "--fail-on", "w"], env) == ["warning"]
    assert "certdoctor" in bash_complete_kubectl(["cert"], env)  # kubectl lists the plugin
