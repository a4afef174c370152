# The two commands a newcomer types: `make run` (the whole local stack) and `make test` (every check).
.PHONY: run test setup lint unit bench

run:
	@tools/setup.sh
	.venv/bin/python -m devstack $(ARGS)

test:
	@tools/setup.sh --browser
	tools/test.sh $(ARGS)

setup:
	@tools/setup.sh --browser

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
	tools/netns.sh .venv/bin/python bench/keep_many.py
	tools/netns.sh .venv/bin/python bench/hash_speed.py
	tools/netns.sh .venv/bin/python bench/big_media.py
	.venv/bin/python bench/fleet.py
	.venv/bin/python bench/prune_speed.py
