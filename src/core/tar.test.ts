import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { RadledgerError } from "./errors.js";
import {
  TAR_BLOCK,
  TarDecoder,
  decodeTar,
  encodeTar,
  isValidTarPath,
  tarHeader,
  tarMembers,
  tarStream,
} from "./tar.js";

const code = (fn: () => unknown): string => {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof RadledgerError) return e.code;
    throw e;
  }
};

const pathArb = fc
  .array(fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}$/), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join("/"))
  .filter(isValidTarPath);

describe("ustar codec", () => {
  test("round trip of any members, fed in chunks of any size", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ path: pathArb, bytes: fc.uint8Array({ maxLength: 1500 }) }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 2000 }),
        (members, chunk) => {
          const tar = encodeTar(members);
          expect(tar.length % TAR_BLOCK).toBe(0);
          expect(decodeTar(tar)).toEqual(members);
          const d = new TarDecoder();
          const out = [];
          for (let o = 0; o < tar.length; o += chunk) out.push(...d.push(tar.subarray(o, o + chunk)));
          d.finish();
          expect(out).toEqual(members);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("header fields are those of POSIX ustar; long paths use the prefix field", () => {
    const h = tarHeader("entries/12.json", 1234);
    const ascii = (a: number, b: number): string => String.fromCharCode(...h.subarray(a, b));
    expect(ascii(0, 15)).toBe("entries/12.json");
    expect(ascii(124, 136)).toBe("00000002322\0");
    expect(ascii(257, 265)).toBe("ustar\u000000");
    expect(ascii(156, 157)).toBe("0");
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    expect(ascii(148, 156)).toBe(`${sum.toString(8).padStart(6, "0")}\0 `);
    const long = `images/${"a".repeat(64)}/${"b".repeat(64)}.dcm`;
    const lh = tarHeader(long, 1);
    expect(String.fromCharCode(...lh.subarray(345, 345 + 71))).toBe(`images/${"a".repeat(64)}`);
    expect(decodeTar(encodeTar([{ path: long, bytes: new Uint8Array([7]) }]))[0]!.path).toBe(long);
  });

  test("refuses unsafe or unstorable paths", () => {
    for (const p of [
      "",
      "/abs",
      "a/../b",
      "./a",
      "a b",
      "a//b",
      "é",
      "x".repeat(101),
      `${"d".repeat(156)}/x`,
    ])
      expect(isValidTarPath(p), p).toBe(false);
    expect(code(() => tarHeader("../etc/passwd", 1))).toBe("INPUT_INVALID");
  });

  test("any change to a header, padding or the end marker is refused with its byte offset", () => {
    const tar = encodeTar([{ path: "a.txt", bytes: new Uint8Array([1, 2, 3]) }]);
    for (const pos of [0, 100, 110, 130, 140, 150, 156, 200, 260, 300, 400, 511, 515, 600, 1024, 1500]) {
      const bad = tar.slice();
      bad[pos] = bad[pos]! ^ 0x20;
      let err: unknown;
      try {
        decodeTar(bad);
      } catch (e) {
        err = e;
      }
      expect(err, `byte ${pos}`).toBeInstanceOf(RadledgerError);
      expect((err as RadledgerError).code).toBe("BUNDLE_MALFORMED");
      expect((err as RadledgerError).message).toMatch(/\(byte \d+\)$/);
    }
    expect(code(() => decodeTar(tar.subarray(0, tar.length - 512)))).toBe("BUNDLE_MALFORMED");
    expect(code(() => decodeTar(tar.subarray(0, 700)))).toBe("BUNDLE_MALFORMED");
    const trailing = new Uint8Array(tar.length + 512);
    trailing.set(tar);
    expect(code(() => decodeTar(trailing))).toBe("BUNDLE_MALFORMED");
    expect(code(() => decodeTar(new Uint8Array(0)))).toBe("BUNDLE_MALFORMED");
  });

  test("random bytes never crash the decoder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        expect(["ok", "BUNDLE_MALFORMED"]).toContain(code(() => decodeTar(bytes)));
      }),
      { numRuns: 200 },
    );
  });

  // The streaming decoder (what the verifiers read bundles with) against the whole-archive one:
  // the same members from any archive both accept, a BUNDLE_MALFORMED refusal from any archive the
  // other refuses — one flipped byte or a cut anywhere, in chunks of any size.
  test("the streaming decoder agrees with the whole-archive decoder on flips and cuts", async () => {
    const streamed = async (bytes: Uint8Array, chunk: number): Promise<string> => {
      const chunks: Uint8Array[] = [];
      for (let o = 0; o < bytes.length; o += chunk) chunks.push(bytes.subarray(o, o + chunk));
      try {
        const out: unknown[] = [];
        for await (const m of tarMembers(chunks, { totalSize: bytes.length })) out.push(m);
        return JSON.stringify(
          out.map((m) => m as { path: string; bytes: Uint8Array }).map((m) => [m.path, [...m.bytes]]),
        );
      } catch (e) {
        if (e instanceof RadledgerError) return e.code;
        throw e;
      }
    };
    const whole = (bytes: Uint8Array): string => {
      try {
        return JSON.stringify(decodeTar(bytes).map((m) => [m.path, [...m.bytes]]));
      } catch (e) {
        if (e instanceof RadledgerError) return e.code;
        throw e;
      }
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ path: pathArb, bytes: fc.uint8Array({ maxLength: 1500 }) }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        async (members, chunk, at, xor, cut) => {
          const tar = encodeTar(members);
          const pos = at % tar.length;
          const bad = cut ? tar.subarray(0, pos) : tar.slice();
          if (!cut) bad[pos] = bad[pos]! ^ xor;
          expect(await streamed(tar, chunk)).toBe(whole(tar));
          expect(await streamed(bad, chunk)).toBe(whole(bad));
        },
      ),
      { numRuns: 150 },
    );
  });

  test("a streamed member's content is read once, and what the reader leaves is skipped", async () => {
    const tar = encodeTar([
      { path: "a", bytes: new Uint8Array(700).fill(1) },
      { path: "b", bytes: new Uint8Array(3).fill(2) },
    ]);
    const seen: string[] = [];
    for await (const m of tarStream([tar.subarray(0, 600), tar.subarray(600)])) {
      seen.push(`${m.path}:${m.size}`);
      if (m.path === "a") {
        for await (const c of m.chunks()) {
          expect(c[0]).toBe(1);
          break; // leave the rest unread
        }
        expect(() => m.chunks()).toThrow(/read once/);
      }
    }
    expect(seen).toEqual(["a:700", "b:3"]);
  });
});
