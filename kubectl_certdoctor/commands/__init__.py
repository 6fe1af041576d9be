"""One module per CLI command; each exposes ``run(opts, args) -> exit code``."""
