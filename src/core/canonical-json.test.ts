import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { canonicalize, parseCanonical, parseStrictJson, type JsonValue } from "./canonical-json.js";
import { utf8 } from "./bytes.js";
import { RadledgerError } from "./errors.js";

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof RadledgerError) return e.code;
    throw e;
  }
};

/** Values canonical JSON accepts: safe integers, well-formed strings, booleans, arrays, objects. */
const canonicalValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.maxSafeInteger(),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary" }),
    fc.boolean(),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: "grapheme" }), tie("value"), { maxKeys: 5 }),
  ),
})).value;

describe("canonical JSON (RFC 8785 rules)", () => {
  test("round-trips: parse(canonicalize(v)) equals v and re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(canonicalValue, (v) => {
        const text = canonicalize(v);
        const parsed = parseCanonical(utf8(text));
        expect(parsed).toEqual(v);
        expect(canonicalize(parsed)).toBe(text);
        // The strict parser reads exactly the same value.
        expect(parseStrictJson(text)).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  test("accepts a text exactly when it is the canonical encoding of what it parses to", () => {
    // Variants of one value: canonical, insertion order, whitespace, an escaped character.
    const variant = fc.tuple(canonicalValue, fc.nat(3)).map(([v, k]) => {
      const canonical = canonicalize(v);
      if (k === 0) return canonical;
      if (k === 1) return JSON.stringify(v);
      if (k === 2) return JSON.stringify(v, null, 1);
      return canonical.replace(/[a-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
    });
    fc.assert(
      fc.property(variant, (text) => {
        let expected: boolean;
        try {
          expected = canonicalize(JSON.parse(text)) === text;
        } catch {
          expected = false;
        }
        expect(codeOf(() => parseCanonical(utf8(text))) === undefined).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  test("matches RFC 8785 for member order by UTF-16 code units and string escapes", () => {
    // RFC 8785 §3.2.3 sorting example subset: "\u20ac" (€) sorts before "\ud83d\ude00" (😀) by UTF-16 code unit.
    expect(canonicalize({ "\u{1F600}": 1, "\u20ac": 2, "\r": 3, "1": 4, a: 5, A: 6 })).toBe(
      '{"\\r":3,"1":4,"A":6,"a":5,"€":2,"😀":1}',
    );
    expect(canonicalize({ s: '\u0000\u001f"\\/\u2028' })).toBe('{"s":"\\u0000\\u001f\\"\\\\/\u2028"}');
    expect(canonicalize([true, false, -0, 0, 9007199254740991])).toBe("[true,false,0,0,9007199254740991]");
  });

  test("refuses floats, unsafe integers, null, lone surrogates and excessive depth", () => {
    expect(codeOf(() => canonicalize({ a: 1.5 }))).toBe("JSON_FLOAT_FORBIDDEN");
    expect(codeOf(() => canonicalize({ a: Number.NaN }))).toBe("JSON_FLOAT_FORBIDDEN");
    expect(codeOf(() => canonicalize({ a: 2 ** 53 }))).toBe("JSON_UNSAFE_INTEGER");
    expect(codeOf(() => canonicalize({ a: null }))).toBe("JSON_NULL_FORBIDDEN");
    expect(codeOf(() => canonicalize({ a: "\ud800" }))).toBe("ENCODING_INVALID");
    let deep: JsonValue = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(codeOf(() => canonicalize(deep))).toBe("JSON_TOO_DEEP");
  });

  test("refuses non-canonical input with the precise reason", () => {
    expect(codeOf(() => parseCanonical(utf8('{"a":1,"a":1}')))).toBe("JSON_DUPLICATE_KEY");
    expect(codeOf(() => parseCanonical(utf8('{"a":1.0}')))).toBe("JSON_FLOAT_FORBIDDEN");
    expect(codeOf(() => parseCanonical(utf8('{"a":1e2}')))).toBe("JSON_FLOAT_FORBIDDEN");
    expect(codeOf(() => parseCanonical(utf8('{"b":1,"a":2}')))).toBe("JSON_NOT_CANONICAL");
    expect(codeOf(() => parseCanonical(utf8('{"a": 1}')))).toBe("JSON_NOT_CANONICAL");
    expect(codeOf(() => parseCanonical(utf8('{"a":"\\u0041"}')))).toBe("JSON_NOT_CANONICAL");
    expect(codeOf(() => parseCanonical(utf8('{"a":-0}')))).toBe("JSON_NOT_CANONICAL");
    expect(codeOf(() => parseCanonical(utf8('{"a":null}')))).toBe("JSON_NULL_FORBIDDEN");
    expect(codeOf(() => parseCanonical(utf8("{")))).toBe("JSON_INVALID");
    expect(codeOf(() => parseCanonical(new Uint8Array([0x7b, 0xff, 0x7d])))).toBe("ENCODING_INVALID");
  });

  test("strict parser: duplicates, depth, trailing data, bad escapes, __proto__ stays data", () => {
    expect(codeOf(() => parseStrictJson('{"x":{"a":1,"a":2}}'))).toBe("JSON_DUPLICATE_KEY");
    expect(codeOf(() => parseStrictJson("[".repeat(100) + "]".repeat(100)))).toBe("JSON_TOO_DEEP");
    expect(codeOf(() => parseStrictJson("{} x"))).toBe("JSON_INVALID");
    expect(codeOf(() => parseStrictJson('"\\x"'))).toBe("JSON_INVALID");
    expect(codeOf(() => parseStrictJson('"\\ud800"'))).toBe("JSON_INVALID");
    expect(codeOf(() => parseStrictJson("12345678901234567890"))).toBe("JSON_UNSAFE_INTEGER");
    expect(codeOf(() => parseStrictJson("01"))).toBe("JSON_INVALID");
    const polluted = parseStrictJson('{"__proto__":{"admin":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(polluted)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.keys(polluted)).toEqual(["__proto__"]);
  });

  test("strict parser never throws anything but coded errors on arbitrary text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        try {
          parseStrictJson(text);
        } catch (e) {
          expect(e).toBeInstanceOf(RadledgerError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
