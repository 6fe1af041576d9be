"""``kubectl certdoctor`` without a command: the interactive tree.

The source is chosen and opened BEFORE the TUI starts, so a missing kubeconfig, an
unreachable server or a corrupt bundle is one clear line on stderr (exit 1/2), not a
half-drawn screen. Textual restores the terminal on exit and on Ctrl-C; the source's
threads are stopped in ``finally`` whatever happens.
"""

from __future__ import annotations

import argparse

from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import DataSource, LiveSource, StaticSource


def open_source(opts: Options) -> DataSource:
    """StaticSource for --demo / --from-file, else a LiveSource (raises CertdoctorError)."""
    if opts.from_file:
        return StaticSource(path=opts.from_file)
    if opts.demo:
        return StaticSource(demo=opts.demo)
    return LiveSource.connect(opts)


def run(opts: Options, args: argparse.Namespace) -> int:
    if opts.demo == "list":
        import sys

        from kubectl_certdoctor import scenarios

        sys.stdout.write(scenarios.listing())
        return 0
    source = open_source(opts)
    from kubectl_certdoctor.app import CertDoctorApp

    app = CertDoctorApp(source, opts=opts)
    try:
        result = app.run()
    finally:
        # the app may have switched context: stop whatever it ended with, and the first
        for src in {id(s): s for s in (app.source, source)}.values():
            src.stop()
            if isinstance(src, LiveSource):
                src.conn.close()
    # a crash inside the app (already printed by Textual) must not look like success
    return app.return_code or int(result or 0)
