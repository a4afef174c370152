"""Layout on a phone and on a desktop, measured in real Chromium (issue 16): the "Seeding for …" mark leaves the
author's name readable and stays inside its card, a bare link to a file does not overflow, the file picker, the
status and the health panel are readable on a phone, and a streamed video sits in a figure without margins."""

from __future__ import annotations

import os
from typing import Any

from tests.e2e.harness import AppUser, UserFactory, eventually
from tests.e2e.test_composer import post_files

PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}

# Every element of the card whose box leaves the card's, and the card's own overflow.
OVERFLOW = """(card) => {
  const box = card.getBoundingClientRect()
  const out = [...card.querySelectorAll('*')]
    .filter((node) => node.getClientRects().length)
    .map((node) => [node, node.getBoundingClientRect()])
    .filter(([, r]) => r.left < box.left - 0.5 || r.right > box.right + 0.5)
    .map(([node, r]) => `${node.tagName}.${node.className} ${r.left.toFixed(0)}..${r.right.toFixed(0)}`)
  if (card.scrollWidth > card.clientWidth) out.push(`card scrolls: ${card.scrollWidth} > ${card.clientWidth}`)
  return out
}"""

# A text cut by its box: its content is wider than the box that shows it.
CUT = "(node) => node.scrollWidth > node.clientWidth"


def overflow(user: AppUser, card: Any) -> list[str]:
    out: list[str] = card.evaluate(OVERFLOW)
    if not user.page.evaluate("document.documentElement.scrollWidth <= innerWidth"):
        out.append("the page scrolls sideways")
    return out


def test_a_post_on_a_phone_and_a_desktop_stays_inside_its_card(new_user: UserFactory) -> None:
    """Every defect found is listed at the end, so one run shows them all."""
    alice, bob = new_user(), new_user(**PHONE)
    bob.follow(alice.npub)
    files = [
        ("clip.mp4", "video/mp4", os.urandom(60_000)),
        ("archive.zip", "application/zip", os.urandom(20_000)),
    ]
    post_files(alice, "a clip and an archive", files)
    problems: dict[str, object] = {}

    # desktop: the bare link to the .zip wraps inside the card
    mine = alice.post_locator("a clip and an archive")
    link = mine.locator(".media > a")
    link.wait_for(timeout=20_000)
    assert ".zip" in link.inner_text()
    if found := overflow(alice, mine):
        problems["desktop card overflows"] = found

    # phone: Bob's browser seeds Alice's files by itself and marks her post
    bob.show("feed")
    card = bob.post_locator("a clip and an archive")
    mark = card.locator(".seeding")
    mark.wait_for(timeout=45_000)
    assert mark.inner_text().startswith("Seeding for ")
    author = card.locator(".author").bounding_box()
    assert author is not None
    if author["width"] <= 40:
        problems["author squeezed"] = author
    inner = card.evaluate(
        "(c) => { const left = c.getBoundingClientRect().left + c.clientLeft; return [left, left + c.clientWidth] }"
    )
    box = mark.bounding_box()
    assert box is not None
    if not (inner[0] <= box["x"] and box["x"] + box["width"] <= inner[1] + 0.5):
        problems["seeding mark outside the card"] = (box, inner)
    if mark.evaluate(CUT):
        problems["seeding mark cut"] = mark.inner_text()
    if found := overflow(bob, card):
        problems["phone card overflows"] = found

    # phone: the video's figure has no default margins
    figure = card.locator("figure.torrent-media")
    margins = figure.evaluate("(f) => { const s = getComputedStyle(f); return [s.marginLeft, s.marginRight] }")
    if margins != ["0px", "0px"]:
        problems["figure margins"] = margins

    # phone: the status and the file picker are not cut
    eventually(bob.page, "document.getElementById('status').dataset.state === 'online'")
    status = bob.page.locator("#status")
    if status.evaluate(CUT):
        problems["status cut"] = status.evaluate("(s) => [s.textContent, s.scrollWidth, s.clientWidth]")
    picker = bob.page.locator("#composer-files")
    natural, shown = picker.evaluate(
        """(input) => {
          const copy = input.cloneNode()  // under the same rules, at its own width
          copy.removeAttribute('id')
          copy.style.cssText = 'position: absolute; width: auto; max-width: none; visibility: hidden'
          input.after(copy)
          const natural = copy.getBoundingClientRect().width
          copy.remove()
          return [natural, input.getBoundingClientRect().width]
        }"""
    )
    if shown < natural - 0.5:  # the native input's own text ("No file chosen") would be cut
        problems["file input cut"] = (shown, natural)
    label = bob.page.locator("label.file-pick").first.bounding_box()
    pick = picker.bounding_box()
    assert label is not None and pick is not None
    if not (label["x"] <= pick["x"] and pick["x"] + pick["width"] <= label["x"] + label["width"] + 0.5):
        problems["file input outside its label"] = (pick, label)

    # phone: the health panel shows what this browser seeds, whole and inside the viewport
    health = bob.page.locator("#swarm-health")
    if not health.is_visible():
        problems["health panel hidden"] = True
    else:
        eventually(bob.page, "document.getElementById('swarm-health').textContent.includes('uploaded')")
        hb = health.bounding_box()
        assert hb is not None
        if health.evaluate(CUT) or hb["x"] < 0 or hb["x"] + hb["width"] > 390 or hb["y"] + hb["height"] > 844:
            problems["health panel cut"] = (health.inner_text(), hb)
        # the last post still scrolls clear of the bottom bar that now holds the panel
        bob.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        last = bob.page.locator("#feed .post").last.bounding_box()
        bar_top = bob.page.evaluate("document.querySelector('.tabs').getBoundingClientRect().top")
        assert last is not None
        if last["y"] + last["height"] > bar_top:
            problems["last post under the bottom bar"] = (last, bar_top)

    assert not problems, "\n".join(f"{name}: {detail}" for name, detail in problems.items())
