import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { csvField, toCsv } from "./csv.js";

/** A minimal RFC 4180 reader, to check what a spreadsheet gets back. */
function parse(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    expect(text[i]).toBe('"');
    let j = i + 1;
    let field = "";
    for (;;) {
      if (text[j] === '"' && text[j + 1] === '"') {
        field += '"';
        j += 2;
      } else if (text[j] === '"') break;
      else field += text.charAt(j++);
    }
    row.push(field);
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text.startsWith("\r\n", i)) {
      rows.push(row);
      row = [];
      i += 2;
    }
  }
  return rows;
}

describe("CSV (RFC 4180)", () => {
  test("round-trips any text, quotes and line breaks included", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 1, maxLength: 4 }), { maxLength: 5 }),
        (rows) => {
          const safe = rows.map((r) => r.map((f) => (/^[=+\-@\t\r]/.test(f) ? `'${f}` : f)));
          expect(parse(toCsv(["h"], rows)).slice(1)).toEqual(safe);
        },
      ),
    );
  });
  test("a value a spreadsheet would run as a formula is defused (OWASP CSV injection)", () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvField("+1")).toBe(`"'+1"`);
    expect(csvField("rad-1")).toBe('"rad-1"');
  });
});
