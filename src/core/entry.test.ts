import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { nobleCrypto as crypto } from "./crypto-noble.js";
import {
  actorKeyId,
  decodeEntry,
  isCanonicalTime,
  signEntry,
  verifyEntrySignature,
  type UnsignedEntry,
} from "./entry.js";
import { RadledgerError } from "./errors.js";
import { utf8 } from "./bytes.js";

const seed = new Uint8Array(32).fill(9);
const publicKey = crypto.ed25519PublicKey(seed);
const unsigned: UnsignedEntry = {
  v: 1,
  type: "report.contribution",
  time: "2026-11-27T21:00:00.000Z",
  origin: "radledger.example-hospital.org/log",
  actor: "rad-0042",
  key: actorKeyId(crypto, publicKey),
  refs: { report: "ab".repeat(32) },
  body: { section: "findings", commitment: "cd".repeat(32) },
};

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof RadledgerError) return e.code;
    throw e;
  }
};

describe("entry envelope", () => {
  test("sign → bytes → decode → verify", () => {
    const { bytes, entry } = signEntry(crypto, unsigned, seed);
    const decoded = decodeEntry(bytes);
    expect(decoded).toEqual(entry);
    expect(verifyEntrySignature(crypto, decoded, publicKey)).toBe(true);
    expect(verifyEntrySignature(crypto, decoded, crypto.ed25519PublicKey(new Uint8Array(32)))).toBe(false);
  });

  test("any change to a signed field breaks the signature", () => {
    const { entry } = signEntry(crypto, unsigned, seed);
    for (const changed of [
      { ...entry, actor: "rad-0043" },
      { ...entry, time: "2026-11-27T21:00:00.001Z" },
      { ...entry, body: { ...entry.body, section: "impression" } },
      { ...entry, refs: {} },
    ]) {
      expect(verifyEntrySignature(crypto, changed, publicKey)).toBe(false);
    }
  });

  test("malformed envelopes are refused with codes", () => {
    const { entry } = signEntry(crypto, unsigned, seed);
    const enc = (v: unknown) => utf8(JSON.stringify(v, Object.keys(v as object).sort()));
    expect(codeOf(() => decodeEntry(utf8('{"v":1}')))).toBe("ENTRY_MALFORMED");
    expect(codeOf(() => decodeEntry(enc({ ...entry, extra: 1 })))).toBe("ENTRY_MALFORMED");
    expect(codeOf(() => decodeEntry(enc({ ...entry, time: "2026-11-27T21:00:00Z" })))).toBe(
      "ENTRY_MALFORMED",
    );
    expect(codeOf(() => decodeEntry(enc({ ...entry, time: "2026-02-30T21:00:00.000Z" })))).toBe(
      "ENTRY_MALFORMED",
    );
    expect(codeOf(() => decodeEntry(enc({ ...entry, type: "Report" })))).toBe("ENTRY_MALFORMED");
    expect(codeOf(() => decodeEntry(enc({ ...entry, key: "XY" })))).toBe("ENTRY_MALFORMED");
    expect(codeOf(() => decodeEntry(utf8(" {}")))).toBe("JSON_NOT_CANONICAL");
    expect(codeOf(() => decodeEntry(new Uint8Array(70_000)))).toBe("ENTRY_TOO_LARGE");
    expect(codeOf(() => signEntry(crypto, { ...unsigned, body: { text: "x".repeat(70_000) } }, seed))).toBe(
      "ENTRY_TOO_LARGE",
    );
  });
});

describe("signing message from the canonical text or bytes", () => {
  test("equals the re-serialised signing message for arbitrary bodies and refs", async () => {
    const fc = (await import("fast-check")).default;
    const { signingMessage, signingMessageFromText, signingPartsFromBytes, decodeEntryWithText } =
      await import("./entry.js");
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== "__proto__"),
          fc.oneof(fc.string(), fc.integer(), fc.constant(',"sig":"x"')),
        ),
        fc.boolean(),
        (body, withRefs) => {
          const { bytes } = signEntry(
            crypto,
            { ...unsigned, body, ...(withRefs ? {} : { refs: undefined }) } as UnsignedEntry,
            seed,
          );
          const { entry, text } = decodeEntryWithText(bytes);
          expect(signingMessageFromText(text)).toEqual(signingMessage(entry));
          expect(signingPartsFromBytes(bytes)).toEqual({
            message: signingMessage(entry),
            signature: entry.sig,
          });
          expect(verifyEntrySignature(crypto, entry, publicKey, text)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("entry times", () => {
  /** The definition: the string Date#toISOString gives back for the instant it parses to. */
  const oracle = (t: string): boolean => {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(t)) return false;
    const ms = Date.parse(t);
    return Number.isFinite(ms) && new Date(ms).toISOString() === t;
  };
  const pad = (n: number, w: number): string => String(n).padStart(w, "0");

  test("isCanonicalTime agrees with the Date round trip on every shape of date and time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 999 }),
        (y, mo, d, h, mi, s, ms) => {
          const t = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`;
          expect(isCanonicalTime(t), t).toBe(oracle(t));
        },
      ),
      { numRuns: 5000 },
    );
    for (const t of ["2024-02-29T00:00:00.000Z", "2023-02-29T00:00:00.000Z", "1900-02-29T00:00:00.000Z"])
      expect(isCanonicalTime(t), t).toBe(oracle(t));
    for (const t of ["2026-11-27T21:00:00Z", "2026-11-27 21:00:00.000Z", "2026-11-27T21:00:00.000+00:00", ""])
      expect(isCanonicalTime(t), t).toBe(false);
  });
});
