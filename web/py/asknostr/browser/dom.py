"""Building and updating the page. User content only ever goes in as text or as checked http(s) URLs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pyscript import document, window
from pyscript.ffi import create_proxy, is_none

from asknostr import blurhash, event_media, nip92
from asknostr.app_routes import profile_route
from asknostr.nip01 import Event


def by_id(element_id: str) -> Any:
    return document.getElementById(element_id)


def el(tag: str, cls: str = "", text: str | None = None, **attrs: str) -> Any:
    node = document.createElement(tag)
    if cls:
        node.className = cls
    if text is not None:
        node.textContent = text
    for name, value in attrs.items():
        node.setAttribute(name.replace("_", "-"), value)
    return node


def set_text(element_id: str, text: str, *, error: bool = False) -> None:
    node = by_id(element_id)
    node.textContent = text
    node.classList.toggle("error", error)


def clear_if_unchanged(submitted: dict[str, str], *element_ids: str) -> None:
    """Empty inputs after their content was used, unless the user has typed something else since."""
    for element_id in element_ids:
        node = by_id(element_id)
        if node.value == submitted.get(element_id):
            node.value = ""


async def copy_text(text: str) -> None:
    """Put `text` on the clipboard (a JS error when the browser refuses)."""
    await window.navigator.clipboard.writeText(text)


def set_status(text: str, state: str) -> None:
    node = by_id("status")
    node.textContent = text
    node.dataset.state = state


def enable_forms() -> None:
    for fieldset in document.querySelectorAll("fieldset[disabled]"):
        fieldset.disabled = False
    document.body.classList.remove("booting")
    document.body.classList.add("ready")


def show_view(name: str) -> None:
    for view in document.querySelectorAll(".view"):
        view.classList.toggle("active", view.id == f"view-{name}")
    for tab in document.querySelectorAll(".tab"):
        active = tab.dataset.view == name
        tab.classList.toggle("active", active)
        if active:
            tab.setAttribute("aria-current", "page")
        else:
            tab.removeAttribute("aria-current")


def format_time(created_at: int) -> str:
    return str(window.Date.new(created_at * 1000).toLocaleString())


def _placeholder_gone(event: Any) -> None:
    node = event.target
    node.style.removeProperty("background-image")
    node.classList.remove("placeholder")


_PLACEHOLDER_GONE = create_proxy(_placeholder_gone)  # one for every element, for the page's life


PLACEHOLDERS_PER_POST = 4  # blurhashes decoded for one post: a post with hundreds of attachments costs no more


def _looks_finished(node: Any, media: nip92.Media, loaded: str, *, placeholder: bool = True) -> None:
    """Before its bytes arrive, an image or video takes the room its `dim` says (clamped: nip92.aspect_ratio) and
    shows its blurhash, decoded here into a data: URL, until `loaded` fires. Unknown or malformed values (checked
    when parsed) leave the element as it was."""
    ratio = nip92.aspect_ratio(media)
    if ratio:  # "auto": once the media knows its own shape (a rotated video, a wrong dim), that shape wins
        node.style.setProperty("aspect-ratio", f"auto {ratio}")
    dim = nip92.parse_dim(media.dim)
    wanted = placeholder and media.blurhash
    url = blurhash.data_url(media.blurhash, *blurhash.placeholder_size(dim)) if wanted else ""
    if url:
        node.classList.add("placeholder")
        node.style.setProperty("background-image", f'url("{url}")')
        node.addEventListener(loaded, _PLACEHOLDER_GONE)


def media_element(media: nip92.Media, src: str | None = None, *, placeholder: bool = True) -> Any:
    """The element for one attachment, loading `src` (the viewer's streaming route) or else its URL. Over the
    streaming route, video and audio load nothing until played: the first request starts the P2P/HTTP race; a
    video shows its poster (imeta `image`) meanwhile, fetched with no referrer (the page's policy)."""
    kind = nip92.media_kind(media)
    streamed = src is not None
    src = src or media.url
    if kind == "image":
        node = el("img", src=src, alt=media.alt or "image", loading="lazy", referrerpolicy="no-referrer")
        _looks_finished(node, media, "load", placeholder=placeholder)
        return node
    if kind in ("video", "audio"):
        preload = "none" if streamed or kind == "audio" else "metadata"
        node = el(kind, src=src, controls="", preload=preload)
        if kind == "video":
            node.setAttribute("playsinline", "")
            if media.image:  # an http(s) URL (nip92 dropped any other)
                node.setAttribute("poster", media.image)
            _looks_finished(node, media, "loadeddata", placeholder=placeholder)
        return node
    return el("a", text=media.url, href=media.url, target="_blank", rel="noopener noreferrer")


def streamed_media(media: nip92.Media, src: str, *, placeholder: bool = True) -> Any:
    """A media element fed by the viewer, in a figure whose caption says where the bytes come from."""
    figure = el("figure", "torrent-media", data_infohash=media.infohash, data_source="waiting")
    figure.append(media_element(media, src, placeholder=placeholder))
    figure.append(
        el("figcaption", "media-status", "P2P first · press play" if nip92.media_kind(media) != "image" else "")
    )
    return figure


class FeedView:
    """The post list, keyed by event id so a new post or a new name does not rebuild everything."""

    def __init__(
        self,
        container: Any,
        stream_url: Callable[[nip92.Media, str], str | None],
        rendered: Callable[[Any], None] = lambda _figure: None,
    ) -> None:
        self.container = container
        self.stream_url = stream_url  # the viewer's: where an attachment streams from (None: its plain URL)
        self.rendered = rendered  # the viewer's: told of each streamed figure made
        self.nodes: dict[str, Any] = {}

    def _post_node(self, event: Event) -> Any:
        attachments = event_media.media_of(event)
        hashes = " ".join(m.infohash for m in attachments if m.infohash)
        node = el("li", "post", data_id=event["id"], data_author=event["pubkey"], data_infohashes=hashes)
        header = el("header")
        # the profile's picture, once known (an http(s) URL: profile.parse_profile); no referrer to its host
        avatar = el("img", "avatar", alt="", width="32", height="32", loading="lazy", referrerpolicy="no-referrer")
        who = el("a", "who", href=profile_route(event["pubkey"]))  # name and picture open the author's profile
        who.append(avatar)
        who.append(el("span", "author"))
        header.append(who)
        header.append(el("time", text=format_time(event["created_at"])))
        star = el("button", "star", "☆", type="button", data_pubkey=event["pubkey"], title="Favourite creator")
        star.setAttribute("aria-pressed", "false")
        header.append(star)
        node.append(header)
        box = el("div", "media")
        shown: list[nip92.Media] = []
        for item in attachments:
            src = self.stream_url(item, event["pubkey"]) if nip92.media_kind(item) else None
            placeholder = len(shown) < PLACEHOLDERS_PER_POST
            if src is not None:
                figure = streamed_media(item, src, placeholder=placeholder)
                box.append(figure)
                self.rendered(figure)
                shown.append(item)
            elif item.url:  # a bare magnet plays only over the streaming route
                box.append(media_element(item, placeholder=placeholder))
                shown.append(item)
        text = event_media.text_beside(event["content"], shown)
        if text:
            node.append(el("p", "text", text))
        if box.childElementCount:
            node.append(box)
        return node

    def update(
        self, posts: Iterable[Event], label: Callable[[str], str], picture: Callable[[str], str] = lambda _: ""
    ) -> None:
        wanted: list[str] = []
        for event in posts:
            node = self.nodes.get(event["id"])
            if node is None:
                node = self.nodes[event["id"]] = self._post_node(event)
            author = label(event["pubkey"])
            author_node = node.querySelector(".author")
            if author_node.textContent != author:
                author_node.textContent = author
            avatar, src = node.querySelector(".avatar"), picture(event["pubkey"])
            if str(avatar.getAttribute("src") or "") != src:
                if src:
                    avatar.setAttribute("src", src)
                else:
                    avatar.removeAttribute("src")
            wanted.append(event["id"])
        for stale in set(self.nodes) - set(wanted):
            self.nodes.pop(stale).remove()
        previous = None
        for event_id in wanted:  # move nodes into order only where they are out of place
            node = self.nodes[event_id]
            expected = previous.nextSibling if previous is not None else self.container.firstChild
            if is_none(expected) or not expected.isSameNode(node):
                if previous is None:
                    self.container.prepend(node)
                else:
                    previous.after(node)
            previous = node


def mark_seeding(seeding_for: dict[str, str], label: Callable[[str], str], me: str) -> None:
    """A pulsing dot, "Seeding for <creator>" ("Seeding your post" on the user's own), on every post whose media
    this browser seeds."""
    for node in document.querySelectorAll(".post[data-infohashes]"):
        hashes = str(node.dataset.infohashes).split()
        creator = next((seeding_for[h] for h in hashes if h in seeding_for), None)
        dot = node.querySelector(".seeding")
        if creator is None:
            if not is_none(dot):
                dot.remove()
        elif is_none(dot):
            text = "Seeding your post" if creator == me else f"Seeding for {label(creator)}"
            node.querySelector("header").append(el("span", "seeding", text))


def mark_favourites(favourites: set[str]) -> None:
    """Stars filled on the posts of favourite creators."""
    for star in document.querySelectorAll(".post .star"):
        on = str(star.dataset.pubkey) in favourites
        star.textContent = "★" if on else "☆"
        star.setAttribute("aria-pressed", "true" if on else "false")
