"""PyInstaller entry: one executable serves both names kubectl looks for.

Invoked as ``kubectl_complete-certdoctor`` (a copy or link of the binary),
it answers kubectl's completion protocol; otherwise it is the plugin.
"""

import os
import sys

from kubectl_certdoctor.entry import main

if __name__ == "__main__":
    if os.path.basename(sys.argv[0]).startswith("kubectl_complete-"):
        from kubectl_certdoctor.completion import kubectl_complete

        sys.exit(kubectl_complete())
    sys.exit(main())
