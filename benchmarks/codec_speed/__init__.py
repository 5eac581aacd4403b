"""Codec speed: turbojpeg against its peers and libjpeg-turbo's own tjbench (pytest-benchmark)."""
