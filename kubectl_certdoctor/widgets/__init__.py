"""Reusable Textual widgets (tree, panels) used by the screens."""
