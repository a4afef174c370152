"""What a post can put on screen: media by type, and hostile content only ever as text."""

from __future__ import annotations

import urllib.request

from tests.e2e.harness import Stack, UserFactory


def test_video_and_audio_posts_render_players(new_user: UserFactory, stack: Stack) -> None:
    alice = new_user()
    alice.post("a clip", media_url=f"{stack.bridge.url}/media/clip.mp4")
    alice.post("a song", media_url=f"{stack.bridge.url}/media/song.mp3")
    video = alice.post_locator("a clip").locator(".media video")
    audio = alice.post_locator("a song").locator(".media audio")
    video.wait_for(timeout=10_000)
    assert video.get_attribute("src") == f"{stack.bridge.url}/media/clip.mp4"
    assert video.get_attribute("controls") is not None
    assert audio.get_attribute("src") == f"{stack.bridge.url}/media/song.mp3"


def test_markup_in_a_post_is_text_and_bad_media_urls_are_refused(new_user: UserFactory) -> None:
    alice = new_user()
    payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold?</b>'
    alice.post(payload)
    post = alice.post_locator("bold?")
    post.wait_for(timeout=10_000)
    assert post.locator(".text").inner_text() == payload
    assert post.locator(".text img, .text script, .text b").count() == 0
    assert alice.page.evaluate("window.pwned") is None

    alice.page.fill("#composer-text", "click me")
    alice.page.fill("#composer-media", "javascript:alert(1)")
    alice.page.click("#post-button")
    alice.page.locator("#composer-result.error", has_text="https://").wait_for(timeout=10_000)
    assert alice.post_locator("click me").count() == 0
    assert alice.page.input_value("#composer-text") == "click me"  # nothing typed is lost


def test_pages_are_served_with_a_content_security_policy(stack: Stack) -> None:
    with urllib.request.urlopen(stack.app_url) as response:
        policy = response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    script_sources = next(part for part in policy.split("; ") if part.startswith("script-src")).split()[1:]
    assert script_sources[0] == "'self'"
    assert not any(source.startswith(("http", "'unsafe-inline'", "*")) for source in script_sources)
