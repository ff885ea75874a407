import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { nobleCrypto as crypto } from "./crypto-noble.js";
import { RadledgerError } from "./errors.js";
import {
  ed25519Signer,
  ed25519Verifier,
  formatSignedNote,
  formatSignerKey,
  formatVerifierKey,
  parseSignedNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifyNote,
} from "./note.js";
import {
  formatCheckpointText,
  openCheckpoint,
  parseCheckpointText,
  signCheckpoint,
  formatSignedCheckpoint,
} from "./checkpoint.js";

// Known-answer vector: the example key pair and signed note of the Go reference implementation of
// C2SP signed-note, golang.org/x/mod/sumdb/note (note_test.go / package documentation).
const GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof RadledgerError) return e.code;
    throw e;
  }
};

describe("C2SP signed-note", () => {
  test("reproduces the Go reference note byte for byte", () => {
    const signer = parseSignerKey(crypto, GO_SKEY);
    const vkey = parseVerifierKey(crypto, GO_VKEY);
    expect(vkey.name).toBe("PeterNeumann");
    expect(formatVerifierKey(signer)).toBe(GO_VKEY);
    expect(formatSignerKey(crypto, "PeterNeumann", parseSignerKeySeed(GO_SKEY))).toBe(GO_SKEY);
    expect(formatSignedNote(signNote(GO_TEXT, [signer]))).toBe(GO_NOTE);
    const verified = verifyNote(parseSignedNote(GO_NOTE), [
      ed25519Verifier(crypto, vkey.name, vkey.publicKey),
    ]);
    expect(verified.text).toBe(GO_TEXT);
  });

  test("a changed text, a changed signature or an unknown key fails with a code", () => {
    const vkey = parseVerifierKey(crypto, GO_VKEY);
    const verifier = ed25519Verifier(crypto, vkey.name, vkey.publicKey);
    expect(
      codeOf(() => verifyNote(parseSignedNote(GO_NOTE.replace("cryptography", "cryptographY")), [verifier])),
    ).toBe("NOTE_BAD_SIGNATURE");
    expect(
      codeOf(() => verifyNote(parseSignedNote(GO_NOTE), [ed25519Verifier(crypto, "Other", vkey.publicKey)])),
    ).toBe("NOTE_NO_VALID_SIGNATURE");
    const other = ed25519Signer(crypto, "PeterNeumann", new Uint8Array(32).fill(7));
    // Same name, different key ID: ignored as unknown, so the note still verifies by the real key.
    const both = formatSignedNote({
      ...parseSignedNote(GO_NOTE),
      signatures: [...parseSignedNote(GO_NOTE).signatures, ...signNote(GO_TEXT, [other]).signatures],
    });
    expect(verifyNote(parseSignedNote(both), [verifier]).verifiedBy).toHaveLength(1);
  });

  test("every single-byte change of the note is refused or fails verification", () => {
    const vkey = parseVerifierKey(crypto, GO_VKEY);
    const verifier = ed25519Verifier(crypto, vkey.name, vkey.publicKey);
    const bytes = new TextEncoder().encode(GO_NOTE);
    for (let i = 0; i < bytes.length; i++) {
      const copy = bytes.slice();
      copy[i] = copy[i]! ^ 0x01;
      const code = codeOf(() => verifyNote(parseSignedNote(copy), [verifier]));
      expect(code, `byte ${i}`).toMatch(
        /^(NOTE_MALFORMED|NOTE_BAD_SIGNATURE|NOTE_NO_VALID_SIGNATURE|ENCODING_INVALID)$/,
      );
    }
  });

  test("malformed notes and keys are refused with codes", () => {
    expect(codeOf(() => parseSignedNote("no blank line\n"))).toBe("NOTE_MALFORMED");
    expect(codeOf(() => parseSignedNote("text\n\n- x AAAA\n"))).toBe("NOTE_MALFORMED");
    expect(codeOf(() => parseSignedNote("text\n\n\u2014 bad+name AAAAAAAA\n"))).toBe("NOTE_MALFORMED");
    expect(codeOf(() => parseSignedNote("te\u0007xt\n\n\u2014 a AAAAAAAA\n"))).toBe("NOTE_MALFORMED");
    expect(codeOf(() => parseSignedNote("text\n\n\u2014 a AAAAAAAA"))).toBe("NOTE_MALFORMED");
    expect(codeOf(() => parseVerifierKey(crypto, GO_VKEY.replace("c74f20a3", "c74f20a4")))).toBe(
      "KEY_STRING_MALFORMED",
    );
    expect(codeOf(() => parseVerifierKey(crypto, "a+b"))).toBe("KEY_STRING_MALFORMED");
    expect(codeOf(() => parseSignerKey(crypto, GO_VKEY))).toBe("KEY_STRING_MALFORMED");
  });

  test("parse(format(note)) round-trips for arbitrary texts and signers", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc
            .string({ minLength: 1, unit: "grapheme" })
            .filter((l) => !Array.from(l).some((ch) => ch.charCodeAt(0) < 0x20)),
          { minLength: 1, maxLength: 4 },
        ),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (lines, seed) => {
          const text = lines.join("\n") + "\n";
          const signer = ed25519Signer(crypto, "example.com/log", seed);
          const formatted = formatSignedNote(signNote(text, [signer]));
          const parsed = parseSignedNote(formatted);
          expect(parsed.text).toBe(text);
          verifyNote(parsed, [ed25519Verifier(crypto, signer.name, signer.publicKey)]);
        },
      ),
      { numRuns: 50 },
    );
  });
});

function parseSignerKeySeed(skey: string): Uint8Array {
  return Uint8Array.from(Buffer.from(skey.split("+").slice(4).join("+"), "base64").subarray(1));
}

describe("C2SP tlog-checkpoint", () => {
  const signer = ed25519Signer(crypto, "radledger.example-hospital.org/log", new Uint8Array(32).fill(1));
  const verifier = ed25519Verifier(crypto, signer.name, signer.publicKey);
  const root = crypto.sha256(new Uint8Array(0));

  test("formats origin, size and base64 root lines (the spec's example shape)", () => {
    expect(
      formatCheckpointText({
        origin: "example.com/behind-the-sofa",
        size: 20852163,
        root: Buffer.from("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", "base64"),
      }),
    ).toBe("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
  });

  test("sign, format, open", () => {
    const text = formatSignedCheckpoint(signCheckpoint({ origin: signer.name, size: 5, root }, signer));
    const opened = openCheckpoint(text, [verifier]);
    expect(opened.checkpoint.size).toBe(5);
    expect(opened.checkpoint.root).toEqual(root);
  });

  test("malformed checkpoints and wrong origins are refused", () => {
    for (const bad of [
      "a\n01\nAAAA\n",
      "a\n1\n",
      "\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
      "a\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
      "a\n1\nAAAA\n",
      "a\n99999999999999999\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
      "a\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
    ]) {
      expect(
        codeOf(() => parseCheckpointText(bad)),
        JSON.stringify(bad),
      ).toBe("CHECKPOINT_MALFORMED");
    }
    const other = ed25519Signer(crypto, "other.example/log", new Uint8Array(32).fill(2));
    const text = formatSignedCheckpoint(signCheckpoint({ origin: other.name, size: 1, root }, other));
    expect(codeOf(() => openCheckpoint(text, [verifier]))).toBe("CHECKPOINT_WRONG_ORIGIN");
  });
});
