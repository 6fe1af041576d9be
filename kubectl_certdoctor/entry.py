"""The console script ``kubectl-certdoctor``.

Nothing is imported before the Ctrl-C handler is in place: an interrupt during start-up
(while ``cli`` and its imports load) exits 130 with one line, never a traceback.
"""

import sys


def main() -> int:
    try:
        from kubectl_certdoctor.cli import main as run

        return run()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
