"""``python -m kubectl_certdoctor``."""

import sys

from kubectl_certdoctor.entry import main

sys.exit(main())
