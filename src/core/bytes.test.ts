import { describe, expect, test } from "vitest";
import fc from "fast-check";
import {
  compareBytes,
  fromBase64,
  fromHex,
  fromUtf8,
  readUint64BE,
  toBase64,
  toHex,
  uint64BE,
} from "./bytes.js";
import { RadledgerError } from "./errors.js";

describe("bytes", () => {
  test("base64 and hex round-trip and agree with Node's encoders (RFC 4648 §4)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
        expect(fromBase64(toBase64(bytes))).toEqual(bytes);
        expect(toHex(bytes)).toBe(Buffer.from(bytes).toString("hex"));
        expect(fromHex(toHex(bytes))).toEqual(bytes);
      }),
    );
  });

  test("non-canonical or malformed base64 is refused with a code", () => {
    for (const bad of ["AB", "AB=", "A===", "AB?=", "QQ==QQ==", "QR==", "QUI=x", "QUJ=", " QUJD", "QU=D"]) {
      expect(() => fromBase64(bad), bad).toThrow(RadledgerError);
    }
    expect(fromBase64("QQ==")).toEqual(new Uint8Array([65]));
    expect(fromBase64("")).toEqual(new Uint8Array(0));
  });

  test("hex refuses odd lengths and non-hex", () => {
    expect(() => fromHex("abc")).toThrow(RadledgerError);
    expect(() => fromHex("zz")).toThrow(RadledgerError);
    // The characters either side of each digit range, and one beyond ASCII.
    for (const bad of ["/0", "0:", "@0", "0G", "`0", "0g", "\u01300", "0\u0000"])
      expect(() => fromHex(bad), JSON.stringify(bad)).toThrow(RadledgerError);
    expect(fromHex("0aFf")).toEqual(new Uint8Array([0x0a, 0xff]));
  });

  test("UTF-8 decoding is strict", () => {
    expect(() => fromUtf8(new Uint8Array([0xc3, 0x28]))).toThrow(RadledgerError);
    expect(fromUtf8(new Uint8Array([0xe2, 0x80, 0x94]))).toBe("\u2014");
  });

  test("uint64 big-endian is exact up to 2^53", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const b = uint64BE(n);
        expect(Buffer.from(b).readBigUInt64BE()).toBe(BigInt(n));
        expect(readUint64BE(b)).toBe(n);
      }),
    );
  });

  test("compareBytes is lexicographic", () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        expect(Math.sign(compareBytes(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
  });
});
