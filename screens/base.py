"""What every full screen of the app shares: typed access to the app, and a safe way for
worker threads to reach the UI."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import Screen

if TYPE_CHECKING:
    from kubectl_certdoctor.app import CertDoctorApp

ResultT = TypeVar("ResultT")


class DoctorScreen(Screen[ResultT]):
    @property
    def cd_app(self) -> CertDoctorApp:
        """The app, typed (screens read its source, analysis and options)."""
        from kubectl_certdoctor.app import CertDoctorApp

        assert isinstance(self.app, CertDoctorApp)
        return self.app

    def _ui(self, fn: Callable[..., None], *args: Any) -> None:
        """From a worker: run ``fn`` on the UI thread unless the screen is gone."""
        def guarded() -> None:
            if self.is_attached:
                fn(*args)
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.app.call_from_thread(guarded)
