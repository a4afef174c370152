from asknostr.app_routes import profile_of, profile_route
from asknostr.nip19 import npub_encode

PUBKEY = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"


def test_a_profile_route_opens_that_profile() -> None:
    route = profile_route(PUBKEY)
    assert route == "#profile=" + npub_encode(PUBKEY)
    assert profile_of(route) == PUBKEY


def test_other_hashes_and_bad_keys_open_nothing() -> None:
    for hash_ in ("", "#", "#feed", "#profile=", "#profile=npub1nonsense", "#profile=" + "z" * 64, "#x=" + PUBKEY):
        assert profile_of(hash_) is None
