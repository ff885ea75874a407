import { describe, expect, test } from "vitest";
import { nobleCrypto as crypto } from "./crypto-noble.js";
import { fromBase64, fromHex, toBase64, utf8 } from "./bytes.js";
import {
  credentialHeaders,
  parseSignatureFields,
  requestPartsOf,
  signatureBase,
  signRequest,
  verifyRequest,
  verifySignature,
  type HttpRequestParts,
} from "./http-signature.js";
import { parseSfDictionary } from "./structured-fields.js";
import { RadledgerError } from "./errors.js";

/**
 * RFC 9421 Appendix B.1.4, test-key-ed25519: the PKCS#8 private key
 * MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF holds this 32-byte seed; the
 * public key is MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs= (SPKI).
 */
const RFC9421_B_1_4_SEED = fromHex("9f8362f87a484a954e6e740c5b4c0e84229139a20aa8ab56ff66586f6a7d29c5");
const RFC9421_B_1_4_PUBLIC = fromBase64("JrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=");

/** RFC 9421 Appendix B.2: the test request (POST /foo?param=Value&Pet=dog to example.com). */
const B2_REQUEST: HttpRequestParts = {
  method: "POST",
  scheme: "https",
  authority: "example.com",
  path: "/foo",
  query: "param=Value&Pet=dog",
  field: (name) =>
    (
      ({
        host: ["example.com"],
        date: ["Tue, 20 Apr 2021 02:07:55 GMT"],
        "content-type": ["application/json"],
        "content-digest": [
          "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        ],
        "content-length": ["18"],
      }) as Record<string, string[]>
    )[name],
};

const B26_SIGNATURE_INPUT =
  'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
const B26_SIGNATURE =
  "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
const B26_BASE = [
  '"date": Tue, 20 Apr 2021 02:07:55 GMT',
  '"@method": POST',
  '"@path": /foo',
  '"@authority": example.com',
  '"content-type": application/json',
  '"content-length": 18',
  '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
].join("\n");

describe("RFC 9421 Appendix B.2.6 (Signing a Request Using ed25519)", () => {
  test("the test key's seed gives the published public key", () => {
    expect(toBase64(crypto.ed25519PublicKey(RFC9421_B_1_4_SEED))).toBe(toBase64(RFC9421_B_1_4_PUBLIC));
  });

  test("the signature base is the published one, byte for byte", () => {
    const [s] = parseSignatureFields(B26_SIGNATURE_INPUT, B26_SIGNATURE);
    expect(s!.label).toBe("sig-b26");
    expect(s!.keyid).toBe("test-key-ed25519");
    expect(s!.created).toBe(1618884473);
    expect(signatureBase(B2_REQUEST, s!.input)).toBe(B26_BASE);
  });

  test("signing the base with the test key gives the published signature (Ed25519 is deterministic)", () => {
    const sig = crypto.ed25519Sign(RFC9421_B_1_4_SEED, utf8(B26_BASE));
    expect(`sig-b26=:${toBase64(sig)}:`).toBe(B26_SIGNATURE);
  });

  test("the published signature verifies; a changed method or path does not", () => {
    const [s] = parseSignatureFields(B26_SIGNATURE_INPUT, B26_SIGNATURE);
    expect(verifySignature(crypto, B2_REQUEST, s!, RFC9421_B_1_4_PUBLIC)).toBe(true);
    expect(verifySignature(crypto, { ...B2_REQUEST, method: "GET" }, s!, RFC9421_B_1_4_PUBLIC)).toBe(false);
    expect(verifySignature(crypto, { ...B2_REQUEST, path: "/bar" }, s!, RFC9421_B_1_4_PUBLIC)).toBe(false);
  });
});

describe("derived components (RFC 9421 §2.2)", () => {
  test("the B.2 request's derived components", () => {
    const input = {
      components: ["@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"],
      params: [] as const,
    };
    expect(signatureBase(B2_REQUEST, input).split("\n").slice(0, 7)).toEqual([
      '"@method": POST',
      '"@target-uri": https://example.com/foo?param=Value&Pet=dog',
      '"@authority": example.com',
      '"@scheme": https',
      '"@request-target": /foo?param=Value&Pet=dog',
      '"@path": /foo',
      '"@query": ?param=Value&Pet=dog',
    ]);
  });

  test("authority is lowercased without the default port; an absent query is '?'; an empty path '/'", () => {
    const req = requestPartsOf("GET", "HTTP://Example.COM:80");
    const base = signatureBase(req, { components: ["@authority", "@path", "@query"], params: [] });
    expect(base.split("\n").slice(0, 3)).toEqual(['"@authority": example.com', '"@path": /', '"@query": ?']);
  });

  test("duplicate components, @signature-params and component parameters are refused", () => {
    expect(() => signatureBase(B2_REQUEST, { components: ["@method", "@method"], params: [] })).toThrow(
      RadledgerError,
    );
    expect(() => signatureBase(B2_REQUEST, { components: ["@signature-params"], params: [] })).toThrow(
      RadledgerError,
    );
    expect(() => parseSignatureFields('s=("@query-param";name="x");created=1', "s=:AA==:")).toThrow(
      /component parameters/,
    );
  });
});

describe("structured fields (RFC 8941)", () => {
  test("dictionaries with inner lists, parameters, byte sequences, tokens and booleans", () => {
    const d = parseSfDictionary('a=("x" "y");n=1;s="q\\"";t=tok, b=:AAE=:, c, d=?0');
    expect(d.get("a")).toEqual({
      items: [
        { value: "x", params: [] },
        { value: "y", params: [] },
      ],
      params: [
        ["n", 1],
        ["s", 'q"'],
        ["t", { token: "tok" }],
      ],
    });
    expect(d.get("b")).toEqual({ value: new Uint8Array([0, 1]), params: [] });
    expect(d.get("c")).toEqual({ value: true, params: [] });
    expect(d.get("d")).toEqual({ value: false, params: [] });
  });

  test.each(["a=(", 'a="x', "a=:AA", "a=1,", "A=1", "a=1.5", "a=(1)x"])("refuses %j", (text) => {
    expect(() => parseSfDictionary(text)).toThrow(RadledgerError);
  });

  test("a Signature-Input label without a Signature is refused", () => {
    expect(() => parseSignatureFields('a=("@method");created=1', "b=:AA==:")).toThrow(/label a/);
  });
});

describe("verifyRequest: what radledger requires of a peer's signature", () => {
  const seed = crypto.randomBytes(32);
  const publicKey = crypto.ed25519PublicKey(seed);
  const url = "http://node-b.example:8080/tile/entries/000";
  const now = 1_800_000_000;
  const credentials = {
    keyid: "hospital-a.example/log",
    sign: (base: Uint8Array) => crypto.ed25519Sign(seed, base),
    now: () => now,
    nonce: () => "n0nce",
  };
  const policy = {
    key: (k: string) => (k === "hospital-a.example/log" ? publicKey : undefined),
    now,
    maxAgeSeconds: 60,
    skewSeconds: 10,
  };
  const fieldsOf = (h: Record<string, string>) => ({
    signatureInput: h["signature-input"]!,
    signature: h.signature!,
  });

  test("a signed GET verifies and names its keyid", () => {
    const h = credentialHeaders(credentials, "GET", url);
    expect(h["signature-input"]).toBe(
      'sig1=("@method" "@authority" "@path" "@query");created=1800000000;nonce="n0nce";alg="ed25519";keyid="hospital-a.example/log"',
    );
    expect(verifyRequest(crypto, requestPartsOf("GET", url), fieldsOf(h), policy)).toMatchObject({
      keyid: "hospital-a.example/log",
      created: now,
    });
  });

  test("another path, authority or method, an unknown key, an old or future created are refused", () => {
    const h = fieldsOf(credentialHeaders(credentials, "GET", url));
    const code = (fn: () => unknown): string => {
      try {
        fn();
        return "OK";
      } catch (e) {
        return (e as RadledgerError).code;
      }
    };
    const other = (u: string, m = "GET") =>
      code(() => verifyRequest(crypto, requestPartsOf(m, u), h, policy));
    expect(other("http://node-b.example:8080/tile/entries/001")).toBe("AUTH_SIGNATURE_INVALID");
    expect(other("http://node-c.example:8080/tile/entries/000")).toBe("AUTH_SIGNATURE_INVALID");
    expect(other(url, "HEAD")).toBe("AUTH_SIGNATURE_INVALID");
    expect(other(`${url}?x=1`)).toBe("AUTH_SIGNATURE_INVALID");
    const req = requestPartsOf("GET", url);
    expect(code(() => verifyRequest(crypto, req, h, { ...policy, key: () => undefined }))).toBe(
      "AUTH_SIGNATURE_INVALID",
    );
    expect(code(() => verifyRequest(crypto, req, h, { ...policy, now: now + 61 }))).toBe(
      "AUTH_SIGNATURE_EXPIRED",
    );
    expect(code(() => verifyRequest(crypto, req, h, { ...policy, now: now - 11 }))).toBe(
      "AUTH_SIGNATURE_EXPIRED",
    );
  });

  test("a signature that covers only the path (not the method and authority) is refused", () => {
    const h = signRequest(
      requestPartsOf("GET", url),
      { components: ["@path"], created: now, keyid: "hospital-a.example/log" },
      credentials.sign,
    );
    expect(() => verifyRequest(crypto, requestPartsOf("GET", url), fieldsOf(h), policy)).toThrow(
      /must cover/,
    );
  });

  test("a bearer credential is an Authorization field", () => {
    expect(credentialHeaders({ bearer: "rl_x" }, "GET", url)).toEqual({ authorization: "Bearer rl_x" });
  });
});
