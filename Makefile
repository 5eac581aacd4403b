# Shortcuts for tools/run.sh, which does the real work (and installs make's
# own prerequisites on a fresh machine, which this file cannot).
.PHONY: setup lib test main bench lint channel channel-fast clean
setup lib test main bench lint channel channel-fast:
	bash tools/run.sh $@
clean:
	rm -rf .build .venv results .pytest_cache .benchmarks
