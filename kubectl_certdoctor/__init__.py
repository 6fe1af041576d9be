"""kubectl-certdoctor: a keyboard-driven terminal doctor for cert-manager.

Layers, each importing only the ones above it:
cluster access (``cluster/``: list+watch into a store) → object graph (``graph``)
→ diagnosis rules (``rules/``: pure functions returning findings) → probes
(``probes/``) → fixes (``fixes/``) → screens (``screens/``, shipped as
``kubectl_certdoctor.screens``).
"""

__version__ = "0.1.0"
