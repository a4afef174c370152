from asknostr.subscriptions import feed_filters, identity_filters


def test_identity_filters_cover_profile_follows_and_relays() -> None:
    assert identity_filters("a" * 64) == [{"kinds": [0, 3, 10002], "authors": ["a" * 64]}]


def test_feed_filters_ask_for_notes_and_names_of_the_authors() -> None:
    filters = feed_filters(["b" * 64, "a" * 64], limit=50)
    assert filters[0] == {"kinds": [1], "authors": ["a" * 64, "b" * 64], "limit": 50}
    assert filters[1] == {"kinds": [0], "authors": ["a" * 64, "b" * 64]}
    assert feed_filters([]) == []
