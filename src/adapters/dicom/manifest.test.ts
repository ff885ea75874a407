import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { manifestLeaves, studyManifestRoot, studyManifestRootHex } from "./manifest.js";

const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6962 §2.1, transcribed literally: k = largest power of two < n. */
function naiveMth(d: readonly Uint8Array[]): Buffer {
  const n = d.length;
  if (n === 0) return sha();
  if (n === 1) return sha(Buffer.from([0]), d[0]!);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return sha(Buffer.from([1]), naiveMth(d.slice(0, k)), naiveMth(d.slice(k)));
}

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe("studyManifestRoot", () => {
  it("matches the naive recursive RFC 6962 definition over sorted unique leaves", () => {
    fc.assert(
      fc.property(fc.array(hash32, { maxLength: 70 }), (hashes) => {
        const leaves = [...new Map(hashes.map((h) => [Buffer.from(h).toString("hex"), h])).entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, h]) => h);
        expect(Buffer.from(studyManifestRoot(hashes))).toEqual(naiveMth(leaves));
      }),
      { numRuns: 300 },
    );
  });

  it("does not depend on the order of the instances (property)", () => {
    fc.assert(
      fc.property(
        fc
          .array(hash32, { minLength: 1, maxLength: 40 })
          .chain((hs) =>
            fc.tuple(
              fc.constant(hs),
              fc.shuffledSubarray(hs, { minLength: hs.length, maxLength: hs.length }),
            ),
          ),
        ([a, b]) => {
          expect(studyManifestRootHex(a)).toBe(studyManifestRootHex(b));
        },
      ),
    );
  });

  it("ignores a duplicate instance and accepts hex or bytes", () => {
    const hs = [sha(Buffer.from("a")), sha(Buffer.from("b")), sha(Buffer.from("c"))];
    const hex = hs.map((h) => h.toString("hex"));
    expect(studyManifestRootHex([...hs, hs[1]!])).toBe(studyManifestRootHex(hex));
    expect(manifestLeaves([hex[2]!, hex[0]!, hex[2]!])).toHaveLength(2);
  });

  it("fixed small cases", () => {
    // Empty tree: SHA-256 of the empty string (RFC 6962 §2.1).
    expect(studyManifestRootHex([])).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const h = sha(Buffer.from("x"));
    expect(Buffer.from(studyManifestRoot([h]))).toEqual(sha(Buffer.from([0]), h));
    // A one-bit change in any instance changes the root.
    const g = Buffer.from(h);
    g[31] = g[31]! ^ 1;
    expect(studyManifestRootHex([h, sha(Buffer.from("y"))])).not.toBe(
      studyManifestRootHex([g, sha(Buffer.from("y"))]),
    );
  });

  it("rejects hashes that are not 32 bytes", () => {
    expect(() => studyManifestRoot([new Uint8Array(31)])).toThrow(RangeError);
    expect(() => studyManifestRoot(["abcd"])).toThrow(RangeError);
  });
});
