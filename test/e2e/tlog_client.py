#!/usr/bin/env python3
"""An independent C2SP tlog-tiles client, written from the specifications alone (signed-note,
tlog-checkpoint, tlog-tiles, RFC 6962 hashing) with the Python standard library and the
`cryptography` package for Ed25519. It shares no code with radledger: the end-to-end test runs it
against `radledger serve` to show that a standard client can read and verify the log.

usage: tlog_client.py BASE_URL VERIFIER_KEY [INDEX ...]
Prints a JSON summary; exits 0 when everything verifies, 1 otherwise.

Checkpoints and hash tiles are public; entry bundles are served only with credentials, given in the
environment (docs/privacy.md):
  TLOG_AUTHORIZATION="Bearer <token>"      sent as the Authorization field, or
  TLOG_SIGNING_KEY="<keyid> <hex seed>"    each request signed per RFC 9421 (HTTP Message
                                           Signatures, alg ed25519) with this Ed25519 seed; keyid
                                           = the log origin of a consortium peer of the node.
"""
import base64
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def fail(message):
    print(json.dumps({"ok": False, "error": message}))
    sys.exit(1)


def sf_string(value):
    """RFC 8941 section 4.1.6 (printable ASCII; backslash and quote escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def signature_fields(url, keyid, seed):
    """RFC 9421: Signature-Input and Signature of a GET of url (sections 2.2, 2.3, 2.5, 3.3.6)."""
    u = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}[u.scheme]
    authority = u.hostname.lower() + ("" if u.port in (None, default) else f":{u.port}")
    components = [
        ("@method", "GET"),
        ("@authority", authority),
        ("@path", u.path or "/"),
        ("@query", "?" + u.query),
    ]
    nonce = base64.b64encode(os.urandom(16)).decode()
    params = (
        "(" + " ".join(sf_string(name) for name, _ in components) + ")"
        + f";created={int(time.time())};nonce={sf_string(nonce)};alg=\"ed25519\";keyid={sf_string(keyid)}"
    )
    base = "".join(f"{sf_string(name)}: {value}\n" for name, value in components)
    base += f'"@signature-params": {params}'
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(base.encode("ascii"))
    return {
        "Signature-Input": f"sig1={params}",
        "Signature": "sig1=:" + base64.b64encode(signature).decode() + ":",
    }


def get(base, path):
    url = f"{base}/{path}"
    headers = {}
    if os.environ.get("TLOG_AUTHORIZATION"):
        headers["Authorization"] = os.environ["TLOG_AUTHORIZATION"]
    if os.environ.get("TLOG_SIGNING_KEY"):
        keyid, seed = os.environ["TLOG_SIGNING_KEY"].split(" ")
        headers.update(signature_fields(url, keyid, bytes.fromhex(seed)))
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.read()
    except urllib.error.HTTPError as e:
        fail(f"{path}: HTTP {e.code} {e.read().decode(errors='replace')[:200]}")


def parse_verifier_key(vkey):
    # <name>+<hex key id>+<base64(0x01 || public key)>; the base64 may itself contain '+'.
    name, key_id_hex, rest = vkey.split("+", 2)
    raw = base64.b64decode(rest)
    if len(raw) != 33 or raw[0] != 0x01:
        fail("verifier key is not an Ed25519 note key")
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if key_id.hex() != key_id_hex:
        fail("verifier key id does not match its name and key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def open_checkpoint(note, name, key_id, public_key):
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        fail("note has no signature block")
    text += "\n"
    verified = False
    for line in signatures.rstrip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            fail("bad signature line")
        signer, b64 = line[2:].split(" ", 1)
        blob = base64.b64decode(b64)
        if signer == name and blob[:4] == key_id:
            try:
                public_key.verify(blob[4:], text.encode())
            except InvalidSignature:
                fail("checkpoint signature does not verify")
            verified = True
    if not verified:
        fail("no signature by the log key")
    origin, size, root = text.rstrip("\n").split("\n")[:3]
    if origin != name:
        fail("checkpoint origin is not the key name")
    return int(size), base64.b64decode(root)


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def tile_index_path(n):
    groups = []
    while True:
        groups.insert(0, "%03d" % (n % 1000))
        n //= 1000
        if n == 0:
            break
    return "/".join(("x" + g) if i < len(groups) - 1 else g for i, g in enumerate(groups))


class Tiles:
    def __init__(self, base, size):
        self.base, self.size, self.cache = base, size, {}

    def hashes(self, level, index):
        """Hashes of tile (level, index) at the checkpoint's size (partial tiles as .p/W)."""
        count = self.size // (256 ** level)
        width = min(256, count - index * 256)
        if width <= 0:
            fail(f"tile {level}/{index} does not exist at size {self.size}")
        path = f"tile/{level}/{tile_index_path(index)}" + ("" if width == 256 else f".p/{width}")
        if path not in self.cache:
            data = get(self.base, path)
            if len(data) != 32 * width:
                fail(f"{path} has the wrong length")
            self.cache[path] = [data[i : i + 32] for i in range(0, len(data), 32)]
        return self.cache[path]

    def perfect(self, height, index):
        """Hash of the perfect subtree of 2**height leaves starting at leaf index * 2**height."""
        level, r = divmod(height, 8)
        first = index * 2 ** r
        layer = self.hashes(level, first // 256)[first % 256 : first % 256 + 2 ** r]
        while len(layer) > 1:
            layer = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
        return layer[0]

    def mth(self, start, end):
        """RFC 6962 MTH(D[start:end]) for the ranges that occur in a tree rooted at 0."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self.perfect(n.bit_length() - 1, start // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def path(self, m, start, end):
        """RFC 6962 PATH(m, D[start:end]) (audit path, leaf first)."""
        n = end - start
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m - start < k:
            return self.path(m, start, start + k) + [self.mth(start + k, end)]
        return self.path(m, start + k, end) + [self.mth(start, start + k)]


def root_from_path(index, size, leaf, path):
    """RFC 9162 section 2.1.3.2, step by step."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            fail("inclusion path too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("inclusion path too short")
    return r


def main():
    base, vkey, indexes = sys.argv[1].rstrip("/"), sys.argv[2], [int(i) for i in sys.argv[3:]]
    name, key_id, public_key = parse_verifier_key(vkey)
    size, root = open_checkpoint(get(base, "checkpoint").decode(), name, key_id, public_key)
    tiles = Tiles(base, size)
    if tiles.mth(0, size) != root:
        fail("tiles do not hash to the checkpoint root")
    checked = []
    for index in indexes:
        if index >= size:
            fail(f"index {index} beyond size {size}")
        bundle_index = index // 256
        width = min(256, size - bundle_index * 256)
        path = f"tile/entries/{tile_index_path(bundle_index)}" + ("" if width == 256 else f".p/{width}")
        data, entries, o = get(base, path), [], 0
        while o < len(data):
            length = int.from_bytes(data[o : o + 2], "big")
            entries.append(data[o + 2 : o + 2 + length])
            o += 2 + length
        if len(entries) != width:
            fail(f"{path} has {len(entries)} entries, expected {width}")
        entry = entries[index % 256]
        if root_from_path(index, size, leaf_hash(entry), tiles.path(index, 0, size)) != root:
            fail(f"entry {index} is not included in the checkpoint")
        checked.append({"index": index, "type": json.loads(entry)["type"]})
    print(json.dumps({"ok": True, "origin": name, "size": size, "entries": checked, "tilesFetched": len(tiles.cache)}))


if __name__ == "__main__":
    main()
