"""Posts with media: the kind 1 note (an `imeta` tag per file, and the `asknostr` hashtag for the community feed)
and the NIP-94 kind 1063 event of each file, which the note references."""

from __future__ import annotations

from asknostr.nip92 import Media, imeta_tag

COMMUNITY_HASHTAG = "asknostr"


def note_template(
    text: str,
    media: list[Media],
    created_at: int,
    *,
    community: bool = False,
    file_events: list[str] | None = None,
) -> dict[str, object]:
    """A kind 1 note: the text, then each file's URL on its own line (clients without imeta show a link)."""
    urls = [m.url for m in media if m.url]
    content = "\n".join([text.strip(), *urls]).strip()
    if not content:
        raise ValueError("write something or add a file first")
    tags: list[list[str]] = [imeta_tag(m) for m in media]
    tags += [["e", event_id, "", "mention"] for event_id in file_events or []]
    if community:
        if f"#{COMMUNITY_HASHTAG}" not in content.lower().split():
            content += f"\n#{COMMUNITY_HASHTAG}"
        tags.append(["t", COMMUNITY_HASHTAG])
    return {"kind": 1, "created_at": created_at, "tags": tags, "content": content}


def is_community_post(tags: list[list[str]]) -> bool:
    return any(len(t) >= 2 and t[0] == "t" and t[1].lower() == COMMUNITY_HASHTAG for t in tags)
