"""Network probes: see the network the way cert-manager sees it (issue 6).

``registry.PROBES`` lists them; ``runner.run`` streams a run; ``plan``
decides which vantage points are available and why not.
"""
