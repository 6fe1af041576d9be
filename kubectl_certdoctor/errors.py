"""Errors that reach the user as one clear line, never as a traceback."""

from __future__ import annotations


class CertdoctorError(Exception):
    """An expected failure with a message meant for the user.

    ``exit_code`` follows kubectl conventions: 1 for a runtime failure
    (unreachable API server, forbidden), 2 for bad usage or bad input.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(CertdoctorError):
    """Bad flags or arguments."""

    exit_code = 2


class BundleError(CertdoctorError):
    """A bundle file that cannot be read: missing, corrupt, or not Kubernetes objects."""

    exit_code = 2


class ClusterError(CertdoctorError):
    """The API server cannot be reached, refused us, or lacks cert-manager."""

    exit_code = 1


class ReadOnlyError(CertdoctorError):
    """A mutation was attempted while ``--read-only`` is in force."""

    exit_code = 1
