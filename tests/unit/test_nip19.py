import pytest

from asknostr import nip19
from asknostr.nip19 import Nip19Error

# Examples from the NIP-19 text, checked against nostr-tools 2.25.2.
FIATJAF = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d"
FIATJAF_NPUB = "npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6"
PUBKEY = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"
NPUB = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
SECRET = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
NPROFILE = (
    "nprofile1qqsrhuxx8l9ex335q7he0f09aej04zpazpl0ne2cgukyawd24mayt8gpp4mhxue69uhhytnc9e3k7mgpz4mhxue6"
    "9uhkg6nzv9ejuumpv34kytnrdaksjlyr9p"
)
RELAYS = ["wss://r.x.com", "wss://djbas.sadkb.com"]
# Made with @scure/base bech32: valid checksums around invalid NIP-19 payloads.
NPUB_31_BYTES = "npub1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyty0fal"
NEVENT = "nevent1qqsqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqsx052h5"
NPROFILE_TRUNCATED = "nprofile1qqsqxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcrqvpsxn280wn"
ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.mark.parametrize(("npub", "pubkey"), [(FIATJAF_NPUB, FIATJAF), (NPUB, PUBKEY)])
def test_npub_vectors(npub: str, pubkey: str) -> None:
    assert nip19.npub_encode(pubkey) == npub
    assert nip19.decode(npub) == ("npub", pubkey)


def test_nsec_vector() -> None:
    assert nip19.nsec_encode(SECRET) == NSEC
    assert nip19.decode(NSEC) == ("nsec", SECRET)


def test_nprofile_vector() -> None:
    assert nip19.decode(NPROFILE) == ("nprofile", {"pubkey": FIATJAF, "relays": RELAYS})
    assert nip19.nprofile_encode(FIATJAF, RELAYS) == NPROFILE
    assert nip19.decode(nip19.nprofile_encode(PUBKEY, [])) == ("nprofile", {"pubkey": PUBKEY, "relays": []})


def test_note_round_trip() -> None:
    note = nip19.note_encode("ab" * 32)
    assert note == "note14w46h2at4w46h2at4w46h2at4w46h2at4w46h2at4w46h2at4w4sfreljc"
    assert nip19.decode(note) == ("note", "ab" * 32)


def test_decode_accepts_uri_prefix_whitespace_and_upper_case() -> None:
    assert nip19.decode(f"  nostr:{NPUB}\n") == ("npub", PUBKEY)
    assert nip19.decode(f"NOSTR:{NPUB.upper()}") == ("npub", PUBKEY)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (NPUB[:-1] + ("q" if NPUB[-1] != "q" else "p"), "bad bech32 checksum"),
        (NPUB[:20] + NPUB[20:].upper(), "mix upper and lower case"),
        (NPUB.replace("npub1", "npub1b"), "invalid character"),
        ("npub1", "not bech32"),
        ("1qqqqqqqq", "not bech32"),
        ("", "not bech32"),
        (NPUB_31_BYTES, "npub must hold 32 bytes, not 31"),
        (NEVENT, "unsupported NIP-19 prefix 'nevent'"),
        ("a12uel5l", "unsupported NIP-19 prefix 'a'"),  # BIP-173 valid test vector
        (NPROFILE_TRUNCATED, "truncated TLV"),
        (NPUB.replace("1", "", 1), "not bech32"),
    ],
)
def test_decode_rejects(text: str, reason: str) -> None:
    with pytest.raises(Nip19Error, match=reason):
        nip19.decode(text)


def test_encode_rejects_bad_input() -> None:
    with pytest.raises(Nip19Error, match="pubkey must be 64 lowercase hex"):
        nip19.npub_encode(PUBKEY.upper())
    with pytest.raises(Nip19Error, match="event id must be 64 lowercase hex"):
        nip19.note_encode("ab" * 31 + "a b")
    with pytest.raises(Nip19Error, match="ASCII"):
        nip19.nprofile_encode(PUBKEY, ["wss://relä.example"])
    with pytest.raises(Nip19Error, match="255 bytes"):
        nip19.nprofile_encode(PUBKEY, ["wss://" + "a" * 250])


@pytest.mark.parametrize(
    "text",
    [
        NPUB,
        f"nostr:{NPUB}",
        f" {NPUB.upper()} ",
        PUBKEY,
        PUBKEY.upper(),
        nip19.nprofile_encode(PUBKEY, RELAYS),
    ],
)
def test_pubkey_from_input(text: str) -> None:
    assert nip19.pubkey_from_input(text) == PUBKEY


@pytest.mark.parametrize(
    ("text", "detail"),
    [(NSEC, "got nsec"), ("@alice", "not bech32"), (PUBKEY[:-1], "bech32"), (NPUB[:-1] + "x", "checksum")],
)
def test_pubkey_from_input_rejects(text: str, detail: str) -> None:
    with pytest.raises(Nip19Error, match="not a public key: expected npub1…, nprofile1… or 64 hex") as info:
        nip19.pubkey_from_input(text)
    assert detail in str(info.value)


@pytest.mark.parametrize("text", [NSEC, f" {NSEC}\n", SECRET, SECRET.upper()])
def test_secret_key_from_input(text: str) -> None:
    assert nip19.secret_key_from_input(text) == SECRET


def test_secret_key_range() -> None:
    assert nip19.secret_key_from_input(f"{ORDER - 1:064x}") == f"{ORDER - 1:064x}"
    for value in (0, ORDER, 2**256 - 1):
        with pytest.raises(Nip19Error, match="secret key out of range"):
            nip19.secret_key_from_input(f"{value:064x}")
    with pytest.raises(Nip19Error, match="secret key out of range"):
        nip19.secret_key_from_input(nip19.nsec_encode("00" * 32))


@pytest.mark.parametrize("text", [NPUB, "hunter2", SECRET[:-2]])
def test_secret_key_from_input_rejects(text: str) -> None:
    with pytest.raises(Nip19Error, match="not a secret key: expected nsec1… or 64 hex characters"):
        nip19.secret_key_from_input(text)


def test_short_npub() -> None:
    assert nip19.short_npub(PUBKEY) == "npub10elfc…jptg"
    assert nip19.short_npub(PUBKEY) == NPUB[:10] + "…" + NPUB[-4:]
