"""The debug pods' image: pinned by digest by default, mirrored for air-gapped clusters.

Nothing is pulled here: the tests check the image reference the pod spec would carry
(the real-node tests run the locally imported probe image with ``--probe-image``)."""

from __future__ import annotations

import pytest

from kubectl_certdoctor.cli import build_parser, options_from
from kubectl_certdoctor.options import (
    DEFAULT_PROBE_IMAGE,
    MIRROR_ENV,
    Options,
    mirrored_image,
    split_image,
)
from kubectl_certdoctor.probes.podrunner import PodPlacement, job_manifest

DIGEST = "sha256:a20c2531bf35436ed3766cd6cfe89d352b050ccc4d7005ce6400adf97503da1b"


def opts(*argv: str) -> Options:
    return options_from(build_parser().parse_args(list(argv)))


def test_default_image_is_pinned_by_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    assert f"docker.io/nicolaka/netshoot:v0.13@{DIGEST}" == DEFAULT_PROBE_IMAGE
    assert Options().probe_image == DEFAULT_PROBE_IMAGE
    assert opts("probe", "dns").probe_image == DEFAULT_PROBE_IMAGE
    job = job_manifest("dns", "pod", PodPlacement("ns"), opts().probe_image, "true", {}, 30)
    assert job["spec"]["template"]["spec"]["containers"][0]["image"].endswith("@" + DIGEST)


@pytest.mark.parametrize(("ref", "mirror", "want"), [
    (DEFAULT_PROBE_IMAGE, "registry.corp:5000",
     f"registry.corp:5000/nicolaka/netshoot:v0.13@{DIGEST}"),
    (DEFAULT_PROBE_IMAGE, "https://harbor.corp/dockerhub/",
     f"harbor.corp/dockerhub/nicolaka/netshoot:v0.13@{DIGEST}"),
    ("nicolaka/netshoot:v0.13", "mirror.local", "mirror.local/nicolaka/netshoot:v0.13"),
    ("busybox:1.36", "mirror.local", "mirror.local/library/busybox:1.36"),
    ("quay.io/org/tool@" + DIGEST, "mirror.local", "mirror.local/org/tool@" + DIGEST),
    ("localhost/tool:v1", "m.local", "m.local/tool:v1"),
    (DEFAULT_PROBE_IMAGE, "", DEFAULT_PROBE_IMAGE),
])
def test_mirror_keeps_path_tag_and_digest(ref: str, mirror: str, want: str) -> None:
    assert mirrored_image(ref, mirror) == want


def test_split_image_follows_the_runtimes() -> None:
    assert split_image("nicolaka/netshoot") == ("docker.io", "nicolaka/netshoot")
    assert split_image("registry:5000/x") == ("registry:5000", "x")
    assert split_image("alpine") == ("docker.io", "library/alpine")


def test_mirror_flag_env_and_custom_image(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    assert opts("probe", "dns", "--probe-image-mirror", "reg.corp").probe_image == \
        f"reg.corp/nicolaka/netshoot:v0.13@{DIGEST}"
    monkeypatch.setenv(MIRROR_ENV, "env.corp")
    assert opts("probe", "dns").probe_image == f"env.corp/nicolaka/netshoot:v0.13@{DIGEST}"
    # the flag wins over the environment; a custom image is mirrored too
    assert opts("--probe-image-mirror", "flag.corp", "--probe-image", "me/tools:1",
                "probe", "dns").probe_image == "flag.corp/me/tools:1"
