"""NIP-19: bech32 entities (npub, nsec, note, nprofile) and reading keys that people paste."""

import re
from typing import Any

from asknostr.nip01 import is_hex64

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHAR_VALUES = {char: value for value, char in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_MAX_LENGTH = 5000  # NIP-19 TLV entities exceed BIP-173's 90 characters; nostr-tools allows 5000
_HEX64_ANY_CASE = re.compile(r"[0-9a-fA-F]{64}")
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_NOT_PUBKEY = "not a public key: expected npub1…, nprofile1… or 64 hex characters"
_NOT_SECRET = "not a secret key: expected nsec1… or 64 hex characters"


class Nip19Error(ValueError):
    """Text that is not a valid NIP-19 entity (or not the kind expected)."""


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: list[int] | bytes, from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    acc = bits = 0
    out = []
    max_value = (1 << to_bits) - 1
    max_acc = (1 << (from_bits + to_bits - 1)) - 1
    for value in data:
        acc = ((acc << from_bits) | value) & max_acc
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & max_value)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & max_value):
        raise Nip19Error("invalid bech32 padding")
    return out


def _bech32_encode(hrp: str, data: bytes) -> str:
    words = _convert_bits(data, 8, 5, pad=True)
    polymod = _polymod([*_hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in words + checksum)


def _bech32_decode(text: str) -> tuple[str, bytes]:
    if text != text.lower() and text != text.upper():
        raise Nip19Error("bech32 text must not mix upper and lower case")
    text = text.lower()
    separator = text.rfind("1")
    if separator < 1 or separator + 7 > len(text) or len(text) > _MAX_LENGTH:
        raise Nip19Error("not bech32: expected prefix, '1', data and a 6-character checksum")
    hrp, data_part = text[:separator], text[separator + 1 :]
    if any(not 33 <= ord(c) <= 126 for c in hrp) or any(c not in _CHAR_VALUES for c in data_part):
        raise Nip19Error("not bech32: invalid character")
    words = [_CHAR_VALUES[c] for c in data_part]
    if _polymod(_hrp_expand(hrp) + words) != 1:
        raise Nip19Error("bad bech32 checksum")
    return hrp, bytes(_convert_bits(words[:-6], 5, 8, pad=False))


def _hex32(value: str, what: str) -> bytes:
    if not is_hex64(value):
        raise Nip19Error(f"{what} must be 64 lowercase hex")
    return bytes.fromhex(value)


def npub_encode(pubkey_hex: str) -> str:
    """npub1… for a hex public key."""
    return _bech32_encode("npub", _hex32(pubkey_hex, "pubkey"))


def nsec_encode(secret_hex: str) -> str:
    """nsec1… for a hex secret key."""
    return _bech32_encode("nsec", _hex32(secret_hex, "secret key"))


def note_encode(id_hex: str) -> str:
    """note1… for a hex event id."""
    return _bech32_encode("note", _hex32(id_hex, "event id"))


def nprofile_encode(pubkey_hex: str, relays: list[str]) -> str:
    """nprofile1…: TLV of the public key (type 0) and relay URLs (type 1, ASCII)."""
    tlv = bytearray([0, 32]) + _hex32(pubkey_hex, "pubkey")
    for relay in relays:
        try:
            value = relay.encode("ascii")
        except UnicodeEncodeError:
            raise Nip19Error(f"relay URL must be ASCII: {relay!r}") from None
        if len(value) > 255:
            raise Nip19Error("relay URL must be at most 255 bytes")
        tlv += bytes([1, len(value)]) + value
    return _bech32_encode("nprofile", bytes(tlv))


def _parse_tlv(data: bytes) -> dict[int, list[bytes]]:
    items: dict[int, list[bytes]] = {}
    i = 0
    while i < len(data):
        if i + 2 > len(data) or i + 2 + data[i + 1] > len(data):
            raise Nip19Error("truncated TLV data")
        kind, length = data[i], data[i + 1]
        items.setdefault(kind, []).append(data[i + 2 : i + 2 + length])
        i += 2 + length
    return items


def decode(text: str) -> tuple[str, str | dict[str, Any]]:
    """(prefix, hex) for npub/nsec/note; (prefix, {"pubkey", "relays"}) for nprofile.

    Accepts surrounding whitespace and a `nostr:` prefix (NIP-21).
    """
    text = text.strip()
    if text[:6].lower() == "nostr:":
        text = text[6:]
    hrp, data = _bech32_decode(text)
    if hrp in ("npub", "nsec", "note"):
        if len(data) != 32:
            raise Nip19Error(f"{hrp} must hold 32 bytes, not {len(data)}")
        return hrp, data.hex()
    if hrp == "nprofile":
        tlv = _parse_tlv(data)
        special = tlv.get(0, [])
        if not special or len(special[0]) != 32:
            raise Nip19Error("nprofile must hold a 32-byte public key")
        try:
            relays = [relay.decode() for relay in tlv.get(1, [])]
        except UnicodeDecodeError:
            raise Nip19Error("nprofile relay is not text") from None
        return hrp, {"pubkey": special[0].hex(), "relays": relays}
    raise Nip19Error(f"unsupported NIP-19 prefix {hrp!r}")


def pubkey_from_input(text: str) -> str:
    """The hex public key in an npub, an nprofile or 64 hex characters (any case)."""
    text = text.strip()
    if _HEX64_ANY_CASE.fullmatch(text):
        return text.lower()
    try:
        hrp, value = decode(text)
    except Nip19Error as exc:
        raise Nip19Error(f"{_NOT_PUBKEY} ({exc})") from None
    if hrp == "npub" and isinstance(value, str):
        return value
    if hrp == "nprofile" and isinstance(value, dict):
        return str(value["pubkey"])
    raise Nip19Error(f"{_NOT_PUBKEY} (got {hrp})")


def secret_key_from_input(text: str) -> str:
    """The hex secret key in an nsec or 64 hex characters; must be in 1..n-1 of secp256k1."""
    text = text.strip()
    if _HEX64_ANY_CASE.fullmatch(text):
        secret = text.lower()
    else:
        try:
            hrp, value = decode(text)
        except Nip19Error as exc:
            raise Nip19Error(f"{_NOT_SECRET} ({exc})") from None
        if hrp != "nsec" or not isinstance(value, str):
            raise Nip19Error(f"{_NOT_SECRET} (got {hrp})")
        secret = value
    if not 0 < int(secret, 16) < _SECP256K1_ORDER:
        raise Nip19Error("secret key out of range: must be between 1 and the secp256k1 group order")
    return secret


def short_npub(pubkey_hex: str) -> str:
    """A short npub for display, like "npub1abcde…wxyz"."""
    npub = npub_encode(pubkey_hex)
    return f"{npub[:10]}…{npub[-4:]}"
