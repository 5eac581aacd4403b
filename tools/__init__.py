"""Developer tools for this repository (not shipped in the wheel)."""
