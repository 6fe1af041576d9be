"""``python -m kubectl_certdoctor``."""

import sys

from kubectl_certdoctor.cli import main

sys.exit(main())
