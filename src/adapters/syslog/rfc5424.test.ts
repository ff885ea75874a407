/** RFC 5424 messages and RFC 6587 octet-counting frames (src/adapters/syslog/rfc5424.ts). */
import { expect, test } from "vitest";
import fc from "fast-check";
import { isRadledgerError } from "../../core/errors.js";
import { MAX_SYSLOG_MESSAGE, OctetCountingDecoder, parseSyslog } from "./rfc5424.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (isRadledgerError(e)) return e.code;
    throw e;
  }
  return "accepted";
};

test("RFC 5424 §6.5 examples: header fields, structured data with escapes, a BOM-prefixed MSG", () => {
  const m = parseSyslog(
    enc(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high \\"x\\" \\] \\\\"] \uFEFFAn application event log entry...',
    ),
  );
  expect(m).toMatchObject({
    facility: 20,
    severity: 5,
    timestamp: "2003-10-11T22:14:15.003Z",
    hostname: "mymachine.example.com",
    appName: "evntslog",
    msgId: "ID47",
    msg: "An application event log entry...",
  });
  expect(m.procId).toBeUndefined();
  expect(m.structuredData.get("examplePriority@32473")).toEqual([["class", 'high "x" ] \\']]);
  expect(m.structuredData.get("exampleSDID@32473")).toHaveLength(3);
  expect(parseSyslog(enc("<34>1 - - - - - -")).msg).toBe("");
});

test.each([
  ["no PRI", "1 - - - - - - x"],
  ["PRI above 191", "<192>1 - - - - - - x"],
  ["PRI with a leading zero", "<034>1 - - - - - - x"],
  ["VERSION 2", "<34>2 - - - - - - x"],
  ["an RFC 3164 message", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed"],
  ["a bad TIMESTAMP", "<34>1 yesterday host app - - - x"],
  ["an APP-NAME over 48", `<34>1 - host ${"a".repeat(49)} - - - x`],
  ["an SP before the SD-ID (§6.3.5 example 4)", '<34>1 - - - - - [ a x="1"] x'],
  ["an unterminated PARAM-VALUE", '<34>1 - - - - - [a x="1] x'],
  ["a repeated SD-ID", '<34>1 - - - - - [a x="1"][a y="2"] x'],
  ["MSG not UTF-8", "<34>1 - - - - - - \u00ff"],
])("refuses %s (AUDIT_MESSAGE_MALFORMED)", (_what, text) => {
  const bytes =
    _what === "MSG not UTF-8" ? Uint8Array.from([...enc("<34>1 - - - - - - "), 0xff, 0xfe]) : enc(text);
  expect(code(() => parseSyslog(bytes))).toBe("AUDIT_MESSAGE_MALFORMED");
});

test("a message above 64 KiB is AUDIT_MESSAGE_TOO_LARGE", () => {
  expect(code(() => parseSyslog(new Uint8Array(MAX_SYSLOG_MESSAGE + 1)))).toBe("AUDIT_MESSAGE_TOO_LARGE");
});

test("octet counting: frames split anywhere across chunks come out whole", () => {
  const msgs = [
    "<34>1 - - - - - - a",
    "<34>1 - - - - - - \u00e9t\u00e9",
    "<34>1 - - - - - - " + "x".repeat(5000),
  ];
  const stream = enc(msgs.map((m) => `${enc(m).length} ${m}`).join(""));
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }), (cuts) => {
      const at = [...new Set(cuts)].sort((a, b) => a - b);
      const d = new OctetCountingDecoder();
      const out: string[] = [];
      let from = 0;
      for (const c of [...at, stream.length]) {
        for (const f of d.push(stream.slice(from, c))) out.push(new TextDecoder().decode(f));
        from = c;
      }
      d.end();
      expect(out).toEqual(msgs);
    }),
  );
});

test.each([
  ["no MSG-LEN (non-transparent framing)", "<34>1 - - - - - - x\n", "AUDIT_MESSAGE_MALFORMED"],
  ["a leading zero", "012 <34>1 - - -", "AUDIT_MESSAGE_MALFORMED"],
  ["no SP after MSG-LEN", "12<34>1 - - - -", "AUDIT_MESSAGE_MALFORMED"],
  ["a length above 64 KiB", "65537 <34>1", "AUDIT_MESSAGE_TOO_LARGE"],
  ["a length of seven digits", "1234567", "AUDIT_MESSAGE_TOO_LARGE"],
])("a broken frame: %s", (_what, text, want) => {
  expect(code(() => new OctetCountingDecoder().push(enc(text)))).toBe(want);
});

test("a frame cut short is refused at the end of the stream", () => {
  const d = new OctetCountingDecoder();
  expect(d.push(enc("100 <34>1 - - -"))).toEqual([]);
  expect(code(() => d.end())).toBe("AUDIT_MESSAGE_MALFORMED");
  const e = new OctetCountingDecoder();
  e.push(enc("12"));
  expect(code(() => e.end())).toBe("AUDIT_MESSAGE_MALFORMED");
});
