"""The benchmark (`make bench`, `python -m tools.bench`): mocked programs, the real engine's
preview, and the local cluster."""
