"""Build one conda-build recipe on a machine without conda.

This is deliberately not a second conda-build: it renders meta.yaml, fetches
the source by sha256, runs build.sh under conda-build's environment contract,
fixes rpaths, runs the recipe's test commands and leaves a staging prefix plus
manifest.json for a later packing step.  Usage: ``python -m tools.offline_build``.
"""


class BuildError(Exception):
    """An expected failure: reported as a one-line error, without a traceback."""
