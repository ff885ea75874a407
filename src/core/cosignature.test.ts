import { describe, expect, test } from "vitest";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { nobleCrypto } from "./crypto-noble.js";
import { concatBytes, fromUtf8, readUint64BE, toHex } from "./bytes.js";
import {
  checkCosignatures,
  cosignatureMessage,
  cosignatureVerifier,
  cosigner,
  formatCosignatureVerifierKey,
  formatCosignerKey,
  parseCosignatureVerifierKey,
  parseCosignerKey,
  parseLogVerifierKey,
} from "./cosignature.js";
import { ed25519Signer, formatVerifierKey, noteKeyId, parseSignedNote, SIG_TYPE_ED25519 } from "./note.js";

// The checkpoint body of the tlog-cosignature spec's example (c2sp.org/tlog-cosignature).
const BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);

describe("cosignature/v1 (C2SP tlog-cosignature, Ed25519)", () => {
  test("signs exactly the spec's message: header line, time line, then the note body", () => {
    expect(fromUtf8(cosignatureMessage(BODY, 1679315147))).toBe(`cosignature/v1\ntime 1679315147\n${BODY}`);
    expect(() => cosignatureMessage("no newline", 1)).toThrow();
  });

  test("key ID is SHA-256(name || \\n || 0x04 || key)[:4], distinct from the Ed25519 note key ID", () => {
    const w = cosigner(nodeCrypto, "witness.example/w1", seed(1));
    const expected = nodeCrypto
      .sha256(concatBytes(new TextEncoder().encode("witness.example/w1\n"), new Uint8Array([4]), w.publicKey))
      .slice(0, 4);
    expect(toHex(w.keyId)).toBe(toHex(expected));
    expect(toHex(w.keyId)).not.toBe(toHex(noteKeyId(nodeCrypto, w.name, SIG_TYPE_ED25519, w.publicKey)));
  });

  test("the signature is a big-endian timestamp and an Ed25519 signature that an independent implementation verifies", () => {
    const w = cosigner(nodeCrypto, "witness.example/w1", seed(2));
    const sig = w.cosign(BODY, 1679315147);
    expect(sig.signature).toHaveLength(72);
    expect(readUint64BE(sig.signature)).toBe(1679315147);
    expect(
      nobleCrypto.ed25519Verify(w.publicKey, cosignatureMessage(BODY, 1679315147), sig.signature.subarray(8)),
    ).toBe(true);
    const v = cosignatureVerifier(nobleCrypto, w.name, w.publicKey);
    expect(v.verify(new TextEncoder().encode(BODY), sig.signature)).toBe(true);
    expect(v.timestampOf(sig.signature)).toBe(1679315147);
  });

  test("a changed timestamp, note, length or an oversized timestamp fails without throwing", () => {
    const w = cosigner(nodeCrypto, "witness.example/w1", seed(3));
    const v = cosignatureVerifier(nodeCrypto, w.name, w.publicKey);
    const sig = w.cosign(BODY, 1700000000).signature;
    const text = new TextEncoder().encode(BODY);
    const later = sig.slice();
    later[7]! ^= 1;
    expect(v.verify(text, later)).toBe(false);
    expect(v.verify(new TextEncoder().encode(BODY.replace("20852163", "20852164")), sig)).toBe(false);
    expect(v.verify(text, sig.subarray(0, 71))).toBe(false);
    const huge = sig.slice();
    huge[0] = 0xff;
    expect(v.verify(text, huge)).toBe(false);
    expect(v.timestampOf(huge)).toBeUndefined();
  });

  test("verifier keys of type 0x04 and signer keys round-trip; types are not interchangeable", () => {
    const w = cosigner(nodeCrypto, "witness.example/w1", seed(4));
    const vkey = formatCosignatureVerifierKey(w);
    expect(vkey).toMatch(/^witness\.example\/w1\+[0-9a-f]{8}\+B[A-P]/);
    expect(toHex(parseCosignatureVerifierKey(nodeCrypto, vkey).publicKey)).toBe(toHex(w.publicKey));
    expect(() => parseLogVerifierKey(nodeCrypto, vkey)).toThrow(
      expect.objectContaining({ code: "KEY_STRING_MALFORMED" }),
    );
    const log = formatVerifierKey(ed25519Signer(nodeCrypto, "log.example/log", seed(5)));
    expect(() => parseCosignatureVerifierKey(nodeCrypto, log)).toThrow(
      expect.objectContaining({ code: "KEY_STRING_MALFORMED" }),
    );
    const secret = formatCosignerKey(nodeCrypto, w.name, seed(4));
    expect(toHex(parseCosignerKey(nodeCrypto, secret).keyId)).toBe(toHex(w.keyId));
    expect(() => parseCosignerKey(nodeCrypto, secret.replace(/\+[0-9a-f]{8}\+/, "+00000000+"))).toThrow();
    expect(() => parseCosignerKey(nodeCrypto, "PRIVATE+KEY+x+00000000+AQ==")).toThrow();
  });

  test("checkCosignatures ignores unknown keys, reports bad ones and keeps the newest per witness", () => {
    const w1 = cosigner(nodeCrypto, "w1.example", seed(6));
    const w2 = cosigner(nodeCrypto, "w2.example", seed(7));
    const stranger = cosigner(nodeCrypto, "w1.example", seed(8)); // same name, other key
    const bad = { ...w2.cosign(BODY, 5) };
    bad.signature = bad.signature.slice();
    bad.signature[20]! ^= 1;
    const note = parseSignedNote(`${BODY}\n— log 0000AAAA\n`.replace("0000AAAA", "AAAAAAAAAAAA"));
    const signatures = [
      ...note.signatures,
      w1.cosign(BODY, 10),
      w1.cosign(BODY, 20),
      stranger.cosign(BODY, 30),
      bad,
    ];
    const result = checkCosignatures({ text: BODY, signatures }, [
      cosignatureVerifier(nodeCrypto, w1.name, w1.publicKey),
      cosignatureVerifier(nodeCrypto, w2.name, w2.publicKey),
    ]);
    expect(result.valid.map((v) => [v.witness.name, v.timestamp])).toEqual([["w1.example", 20]]);
    expect(result.invalid).toEqual(["w2.example"]);
  });
});
