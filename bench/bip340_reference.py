"""Pure-Python BIP-340 Schnorr signatures over secp256k1, after the BIP's reference code.

Only for bench/crypto_speed.py: the baseline a pure-Python app would use under Pyodide (Jacobian coordinates,
double-and-add, no precomputed tables). Not constant-time.
"""

from __future__ import annotations

import hashlib

P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)
Point = tuple[int, int] | None


def _tagged(tag: str, data: bytes) -> bytes:
    digest = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(digest + digest + data).digest()


Jacobian = tuple[int, int, int]  # (X, Y, Z) with x = X/Z^2, y = Y/Z^3; Z == 0 is the point at infinity
INFINITY: Jacobian = (1, 1, 0)


def _double(p: Jacobian) -> Jacobian:
    x, y, z = p
    if z == 0 or y == 0:
        return INFINITY
    yy = y * y % P
    s = 4 * x * yy % P
    m = 3 * x * x % P
    x3 = (m * m - 2 * s) % P
    return x3, (m * (s - x3) - 8 * yy * yy) % P, 2 * y * z % P


def _add_j(p: Jacobian, q: Jacobian) -> Jacobian:
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    z1z1, z2z2 = p[2] * p[2] % P, q[2] * q[2] % P
    u1, u2 = p[0] * z2z2 % P, q[0] * z1z1 % P
    s1, s2 = p[1] * z2z2 * q[2] % P, q[1] * z1z1 * p[2] % P
    if u1 == u2:
        return _double(p) if s1 == s2 else INFINITY
    h, r = (u2 - u1) % P, (s2 - s1) % P
    hh = h * h % P
    hhh = h * hh % P
    x3 = (r * r - hhh - 2 * u1 * hh) % P
    return x3, (r * (u1 * hh - x3) - s1 * hhh) % P, h * p[2] * q[2] % P


def _affine(p: Jacobian) -> Point:
    if p[2] == 0:
        return None
    zinv = pow(p[2], P - 2, P)
    return p[0] * zinv * zinv % P, p[1] * zinv * zinv * zinv % P


def _add(p1: Point, p2: Point) -> Point:
    j1 = INFINITY if p1 is None else (p1[0], p1[1], 1)
    j2 = INFINITY if p2 is None else (p2[0], p2[1], 1)
    return _affine(_add_j(j1, j2))


def _mul(point: Point, n: int) -> Point:
    """Double-and-add in Jacobian coordinates: one field inversion per multiplication."""
    if point is None:
        return None
    result, addend = INFINITY, (point[0], point[1], 1)
    while n:
        if n & 1:
            result = _add_j(result, addend)
        addend = _double(addend)
        n >>= 1
    return _affine(result)


def _lift_x(x: int) -> Point:
    if x >= P:
        return None
    y_sq = (pow(x, 3, P) + 7) % P
    y = pow(y_sq, (P + 1) // 4, P)
    if pow(y, 2, P) != y_sq:
        return None
    return x, y if y & 1 == 0 else P - y


def public_key(secret: bytes) -> bytes:
    point = _mul(G, int.from_bytes(secret, "big"))
    assert point is not None
    return point[0].to_bytes(32, "big")


def sign(message: bytes, secret: bytes, aux: bytes) -> bytes:
    d0 = int.from_bytes(secret, "big")
    point = _mul(G, d0)
    assert point is not None and 0 < d0 < N
    d = d0 if point[1] % 2 == 0 else N - d0
    t = (d ^ int.from_bytes(_tagged("BIP0340/aux", aux), "big")).to_bytes(32, "big")
    pub = point[0].to_bytes(32, "big")
    k0 = int.from_bytes(_tagged("BIP0340/nonce", t + pub + message), "big") % N
    r = _mul(G, k0)
    assert r is not None
    k = k0 if r[1] % 2 == 0 else N - k0
    rx = r[0].to_bytes(32, "big")
    e = int.from_bytes(_tagged("BIP0340/challenge", rx + pub + message), "big") % N
    return rx + ((k + e * d) % N).to_bytes(32, "big")


def verify(message: bytes, pubkey: bytes, sig: bytes) -> bool:
    point = _lift_x(int.from_bytes(pubkey, "big"))
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if point is None or r >= P or s >= N:
        return False
    e = int.from_bytes(_tagged("BIP0340/challenge", sig[:32] + pubkey + message), "big") % N
    result = _add(_mul(G, s), _mul(point, N - e))
    return result is not None and result[1] % 2 == 0 and result[0] == r
