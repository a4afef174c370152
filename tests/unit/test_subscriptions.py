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


def test_profile_filters_ask_for_the_persons_profile_and_notes() -> None:
    from asknostr.subscriptions import profile_filters

    pubkey = "b" * 64
    assert profile_filters(pubkey) == [
        {"kinds": [0], "authors": [pubkey]},
        {"kinds": [1], "authors": [pubkey], "limit": 100},
    ]


def test_names_filters_ask_for_the_profiles_of_people_shown() -> None:
    from asknostr.subscriptions import MAX_NAMES, names_filters

    a, b, me = "a" * 64, "b" * 64, "f" * 64
    assert names_filters([], set()) == []
    assert names_filters([me], {me}) == []
    assert names_filters([b, a, b, me], {me}) == [{"kinds": [0], "authors": [a, b]}]
    # more people than one filter holds: the ones highest on screen (newest posts), whatever their keys
    shown = [f"{i:064x}" for i in reversed(range(MAX_NAMES + 50))]
    (only,) = names_filters(shown, set())
    assert only["authors"] == sorted(shown[:MAX_NAMES])
