"""A private control plane with the lab running on it, shared by the lab test modules.

cert-manager's controllers act on every namespace they see, so the lab never runs on the
shared test API server: each module that needs it gets its own control plane, the lab's
processes (tests/support/lab.py) and the lab scenarios it asks for, applied and settled.
Teardown deletes the scenarios while the controller still runs (it releases its
finalizers), then stops the lab and the control plane.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from kubernetes import client

from tests.support import lab_scenarios as ls
from tests.support.controlplane import ControlPlane
from tests.support.lab import Lab, LabState, labbin


@dataclass
class PrivateLab:
    cp: ControlPlane
    lab: Lab
    api: client.ApiClient
    scenarios: tuple[ls.LabScenario, ...]
    #: scenario name → whether the real controller settled it in time
    settled: dict[str, bool] = field(default_factory=dict)
    torn_down: bool = False
    #: namespaces still present after teardown (must be none)
    namespaces_left: list[str] = field(default_factory=list)

    @property
    def state(self) -> LabState:
        return self.lab.state

    @classmethod
    def start(cls, tmp: pytest.TempPathFactory, name: str,
              scenarios: tuple[ls.LabScenario, ...] = ls.SCENARIOS,
              settle_timeout: float = 120) -> PrivateLab:
        from kubernetes import config

        bindir = labbin()
        cp = ControlPlane(tmp.mktemp(f"{name}-controlplane")).start()
        try:
            api = config.new_client_from_config(config_file=str(cp.admin_kubeconfig))
            ls.allow_namespace_deletion(api)
            lab = Lab(cp.admin_kubeconfig, tmp.mktemp(name), bindir=bindir)
            lab.start()
        except BaseException:
            cp.stop()
            raise
        run = cls(cp, lab, api, scenarios)
        try:
            ls.apply_scenarios(api, lab.state, scenarios)
            run.settled = ls.wait_settled(api, timeout=settle_timeout, scenarios=scenarios)
        except BaseException:
            run.teardown()
            raise
        return run

    def teardown(self, first: Callable[[], None] | None = None) -> None:
        """``first`` runs before the scenarios are deleted (a test's own extra objects)."""
        if self.torn_down:
            return
        self.torn_down = True
        try:
            if first is not None:
                first()
            self.namespaces_left = ls.delete_scenarios(self.api, scenarios=self.scenarios)
        finally:
            try:
                self.lab.stop()
            finally:
                self.api.close()
                self.cp.stop()
