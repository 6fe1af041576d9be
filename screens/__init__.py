"""Textual screens (shipped as ``kubectl_certdoctor.screens``)."""
