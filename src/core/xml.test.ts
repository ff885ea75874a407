/** The strict XML reader (src/core/xml.ts): well-formed documents in, everything else a coded refusal. */
import { expect, test } from "vitest";
import fc from "fast-check";
import { isRadledgerError } from "./errors.js";
import { parseXml } from "./xml.js";

function refusal(text: string): string {
  try {
    parseXml(text);
  } catch (e) {
    if (isRadledgerError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "accepted";
}

test("elements, attributes, text, CDATA, entities and character references", () => {
  const root = parseXml(
    `<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><a x='1' p:y="a&amp;b&#x41;&#66;&lt;"><p:b/>t&gt;<![CDATA[<raw>]]><?pi data?><c>z</c></a>\n`,
  );
  expect(root.name).toBe("a");
  expect(root.attributes.get("x")).toBe("1");
  expect(root.attributes.get("p:y")).toBe("a&bAB<");
  expect(root.children.map((c) => [c.name, c.local])).toEqual([
    ["p:b", "b"],
    ["c", "c"],
  ]);
  expect(root.text).toBe("t><raw>");
  expect(root.children[1]!.text).toBe("z");
});

test("refuses a DOCTYPE (no DTD, no entities: no XXE, no billion laughs) with INPUT_INVALID", () => {
  // A sender controls the whole message: an internal subset could define entities that expand
  // (billion laughs) or name external resources (XXE). No DTD is read, so none is accepted.
  for (const text of [
    '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    '<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>',
    '<!DOCTYPE a [<!ENTITY a "&b;&b;"><!ENTITY b "&c;&c;">]><a>&a;</a>',
  ])
    expect(refusal(text)).toMatch(/^INPUT_INVALID: XML: .* \(at offset \d+\)$/);
});

test.each([
  ["an undeclared entity", "<a>&x;</a>"],
  ["a mismatched end tag", "<a><b></a></b>"],
  ["an unclosed element", "<a><b></b>"],
  ["two roots", "<a/><b/>"],
  ["text after the root", "<a/>x"],
  ["a duplicate attribute", '<a x="1" x="2"/>'],
  ["an unquoted attribute", "<a x=1/>"],
  ["'<' in an attribute value", '<a x="<"/>'],
  ["a control character", "<a>\u0001</a>"],
  ["a character reference to NUL", "<a>&#0;</a>"],
  ["'--' in a comment", "<a><!-- a -- b --></a>"],
  ["an encoding other than UTF-8", '<?xml version="1.0" encoding="ISO-8859-1"?><a/>'],
  ["an XML declaration not first", ' <?xml version="1.0"?><a/>'],
  ["nesting deeper than 32", "<a>".repeat(40) + "</a>".repeat(40)],
  ["empty input", ""],
  ["no element", "just text"],
])("refuses %s with INPUT_INVALID", (_what, text) => {
  expect(refusal(text)).toMatch(/^INPUT_INVALID: XML: .* \(at offset \d+\)$/);
});

test("refuses more than the element limit", () => {
  expect(refusal(`<a>${"<b/>".repeat(20_001)}</a>`)).toMatch(/more than 20000 elements/);
});

test("arbitrary input is parsed or refused with a code, never a crash", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      const r = refusal(s);
      expect(r === "accepted" || r.startsWith("INPUT_INVALID")).toBe(true);
    }),
    { numRuns: 2000 },
  );
  // mutations of a real document: truncations and single-character changes
  const doc = '<?xml version="1.0"?><A x="1"><B y="&amp;">t<![CDATA[c]]></B><!--k--></A>';
  for (let i = 0; i < doc.length; i++) {
    const r = refusal(doc.slice(0, i));
    expect(r.startsWith("INPUT_INVALID")).toBe(true);
    for (const ch of ["<", ">", "&", '"', "/", "!", "?"]) {
      const m = refusal(doc.slice(0, i) + ch + doc.slice(i + 1));
      expect(m === "accepted" || m.startsWith("INPUT_INVALID")).toBe(true);
    }
  }
});
