"""Who carries a post's bytes to a creator's community: followers' browsers, or the Bridge (issue 25).

    tools/netns.sh .venv/bin/python bench/offload.py [--runs N] [--size MB] [--followers cone:3,symmetric:2,no-udp:1]
        [--viewers cone:2,symmetric:1,no-udp:1] [--crowd]   (part of `make bench`)

The simulated internet of the tests (devstack/internet.py), the scenario of tests/e2e/community.py: a creator in a
home (cone) NAT posts a video (20 MB by default) with the Bridge pinged as usual; followers (3 cone, 2 symmetric, 1
without UDP) are online and following before the post, so their browsers seed it by themselves; then viewers (2
cone, 1 symmetric, 1 without UDP) open the app, follow the creator and play it one after another, the creator still
online. Per run it prints the bytes delivered to the browsers by source (browsers direct, browsers through TURN, the
Bridge over WebRTC: getStats at the receivers; HTTP from the blob origin: the home routers' counters), the browsers'
share, the Bridge's own upload counter as a multiple of the file, when each follower held the whole file, and each
viewer's time to first frame, caption, share from browsers, duplicate bytes and what the Bridge uploaded during its
play. `--crowd`: one run of 21 browsers (several contexts per Chromium, one home each group) and a 5 MB video.
`--baseline`: the same runs first against a Bridge that never steps back (`--step-back-holders 0`: a plain seed, as
before issue 25), in the same sitting, and the ratios of the two.
Figures are printed, never asserted (tests/e2e/test_community_offload.py asserts the goal on a smaller mix).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import Playwright, sync_playwright  # noqa: E402

from tests.e2e.community import CROWD_MIX, DEFAULT_MIX, Mix, Run, community, kinds, run_scenario, table  # noqa: E402


def summary(runs: list[Run]) -> str:
    """Medians over the runs, for the figures the issue's goal is about."""
    share = statistics.median(r.delivered.browser_share for r in runs) * 100
    bridge = statistics.median(r.bridge_uploaded / r.size for r in runs)
    viewers = [v.received.browser_share * 100 for r in runs for v in r.viewers if v.kind != "no-udp"]
    never = statistics.median(sum(f.whole_after is None for f in r.followers) for r in runs)
    return (f"\nover {len(runs)} runs (medians): browsers' share {share:.0f} %; the Bridge uploaded {bridge:.2f}x the "
            f"file; viewers with UDP got {statistics.median(viewers) if viewers else 0:.0f} % from browsers; "
            f"followers never holding it: {never:g}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--size", type=float, help="MB of the video (20; 5 with --crowd)")
    parser.add_argument("--followers", help="NAT kinds of the followers (cone:3,symmetric:2,no-udp:1)")
    parser.add_argument(
        "--viewers", help="NAT kinds of the viewers, in the order they play (cone:2,symmetric:1,no-udp:1)"
    )
    parser.add_argument("--per-home", type=int, help="people of one kind and role per home and Chromium (1; 3 crowd)")
    parser.add_argument("--follower-wait", type=float, help="s viewers wait for followers with UDP to hold it (120)")
    parser.add_argument("--crowd", action="store_true", help="one run of 21 browsers: 14 followers, 6 viewers")
    parser.add_argument(
        "--baseline", action="store_true", help="first the same runs against a plain seed (--step-back-holders 0)"
    )
    args = parser.parse_args()
    mix = CROWD_MIX if args.crowd else DEFAULT_MIX
    changes: dict[str, object] = {}
    if args.size:
        changes["size"] = int(args.size * 1e6)
    if args.followers:
        changes["followers"] = kinds(args.followers)
    if args.viewers:
        changes["viewers"] = kinds(args.viewers)
    if args.per_home:
        changes["per_home"] = args.per_home
    if args.follower_wait:
        changes["follower_wait"] = args.follower_wait
    mix = dataclasses.replace(mix, **changes)  # type: ignore[arg-type]
    runs = 1 if args.crowd else args.runs
    print(f"{mix.size / 1e6:g} MB video; followers {', '.join(mix.followers)}; viewers {', '.join(mix.viewers)}; "
          f"{mix.per_home} per home; {runs} run(s)", flush=True)  # fmt: skip
    mixes = {"stepping back": mix}
    if args.baseline:
        mixes = {"baseline: a plain seed": dataclasses.replace(mix, bridge_args=("--step-back-holders", "0")), **mixes}
    results: dict[str, list[Run]] = {}
    with sync_playwright() as playwright:
        for name, one in mixes.items():
            results[name] = sitting(playwright, name, one, runs)
    for name, runs_of in results.items():
        print(f"\n{name}:{summary(runs_of)}")
    if args.baseline:
        base, new = results.values()
        ratio = statistics.median(r.bridge_uploaded for r in new) / max(
            1, statistics.median(r.bridge_uploaded for r in base)
        )
        print(f"\nthe Bridge's upload per post, stepping back against a plain seed: {ratio:.2f}x")


def sitting(playwright: Playwright, name: str, mix: Mix, runs: int) -> list[Run]:
    """`runs` runs of `mix` in one simulated internet, built for them and deleted after."""
    results: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, community(playwright, Path(tmp), mix) as world:
        for run in range(1, runs + 1):
            result = run_scenario(world, run, log=lambda line: print(line, flush=True))
            results.append(result)
            print(f"\n=== {name}, run {run} ===\n{table(result)}\n", flush=True)
    return results


if __name__ == "__main__":
    main()
