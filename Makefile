# The two commands of the README, and their parts. Everything installs what it needs by itself.
PYTHON ?= python3
export PYTHON

.PHONY: demo test bootstrap servers cluster lint stop

## demo: install what is missing, start Neo4j, load a recorded failure, print the diagnosis
# (the demo needs no cluster, so its multi-minute Go build is left to `make test`)
demo:
	KGRCA_SKIP_CLUSTER_BUILD=1 scripts/bootstrap.sh
	scripts/demo.sh

## test: install what is missing, start the real servers and cluster, run every test
test: bootstrap
	scripts/test.sh

bootstrap:
	scripts/bootstrap.sh

servers: bootstrap
	kgrca servers up

cluster: bootstrap
	kgrca cluster up

lint:
	ruff check .

stop:
	-kgrca cluster down
	-kgrca servers down
