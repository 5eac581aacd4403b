"""The micro suite: turbojpeg against its peers and libjpeg-turbo's own tjbench, call by call (pytest-benchmark)."""
