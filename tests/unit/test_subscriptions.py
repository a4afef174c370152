from asknostr.subscriptions import community_filters, feed_filters, identity_filters


def test_identity_filters_cover_profile_follows_relays_and_media_servers() -> None:
    assert identity_filters("a" * 64) == [{"kinds": [0, 3, 10002, 10063, 10096], "authors": ["a" * 64]}]


def test_community_filters_ask_for_the_hashtag() -> None:
    assert community_filters() == [{"kinds": [1], "#t": ["asknostr"], "limit": 200}]


def test_feed_filters_ask_for_notes_and_names_of_the_authors() -> None:
    filters = feed_filters(["b" * 64, "a" * 64], limit=50)
    assert filters[0] == {"kinds": [1], "authors": ["a" * 64, "b" * 64], "limit": 50}
    assert filters[1] == {"kinds": [0], "authors": ["a" * 64, "b" * 64]}
    assert feed_filters([]) == []
