"""Benchmarks for the turbojpeg wrapper (run them through tools/run.sh)."""
