#!/bin/bash
# Header-only: the headers and ffnvcodec.pc, with PREFIX written into the .pc file.
set -euxo pipefail
make PREFIX="${PREFIX}" install
