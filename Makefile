# The two commands a newcomer types: `make run` (the whole local stack) and `make test` (every check).
.PHONY: run test setup lint unit check bench

run:
	@tools/setup.sh
	.venv/bin/python -m devstack $(ARGS)

test:
	@tools/setup.sh --browser
	tools/test.sh $(ARGS)

setup:
	@tools/setup.sh --browser

# the inner loop, under a minute: lint, format, types and the CPython unit tests
check: lint
	.venv/bin/python -m pytest -q tests/unit

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench:
	@tools/setup.sh --browser
	tools/netns.sh .venv/bin/python bench/boot_time.py
	tools/netns.sh .venv/bin/python bench/bridge_swarm.py
	tools/netns.sh .venv/bin/python bench/p2p_throughput.py
	tools/netns.sh .venv/bin/python bench/first_frame.py
	tools/netns.sh .venv/bin/python bench/nat_pairs.py
	tools/netns.sh .venv/bin/python bench/offload.py --baseline
	tools/netns.sh .venv/bin/python bench/keep_many.py
	tools/netns.sh .venv/bin/python bench/hash_speed.py
	tools/netns.sh .venv/bin/python bench/big_media.py
	.venv/bin/python bench/fleet.py
	.venv/bin/python bench/prune_speed.py
