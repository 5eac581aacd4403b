#!/bin/bash
# A pure-Python wheel of turbojpeg and framereader, installed into the prefix.
set -euxo pipefail
"${PYTHON}" -m pip install . -vv --no-deps --no-build-isolation
