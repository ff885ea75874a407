import { describe, expect, it } from "vitest";
import { ANNEX_E_BASIC_PROFILE, annexEAction, normaliseTag } from "./annex-e.js";

describe("PS3.15 Table E.1-1 data", () => {
  it("has one well-formed row per tag", () => {
    const tags = ANNEX_E_BASIC_PROFILE.map((r) => r.tag);
    expect(new Set(tags).size).toBe(tags.length);
    for (const r of ANNEX_E_BASIC_PROFILE) expect(r.tag).toMatch(/^\([0-9A-FX]{4},[0-9A-FX]{4}\)$/);
    expect(ANNEX_E_BASIC_PROFILE.length).toBeGreaterThan(400);
  });

  it("gives the Basic Profile action of well-known attributes", () => {
    expect(annexEAction("(0010,0010)")).toBe("Z"); // Patient's Name
    expect(annexEAction("0010,0020")).toBe("Z"); // Patient ID
    expect(annexEAction("00100030")).toBe("Z"); // Patient's Birth Date
    expect(annexEAction("(0008,0050)")).toBe("Z"); // Accession Number
    expect(annexEAction("(0008,0080)")).toBe("X/Z/D"); // Institution Name
    expect(annexEAction("(0008,0090)")).toBe("Z"); // Referring Physician's Name
    expect(annexEAction("(0008,0018)")).toBe("U"); // SOP Instance UID
    expect(annexEAction("(0020,000d)")).toBe("U"); // Study Instance UID
    expect(annexEAction("(0020,000E)")).toBe("U"); // Series Instance UID
    expect(annexEAction("(0008,1140)")).toBe("X/Z/U*"); // Referenced Image Sequence
    expect(annexEAction("(0010,1002)")).toBe("X"); // Other Patient IDs Sequence
  });

  it("handles private and repeating groups, and retains what the table does not list", () => {
    expect(annexEAction("(0009,1001)")).toBe("X");
    expect(annexEAction("(0009,0010)")).toBe("X");
    expect(annexEAction("(6000,3000)")).toBe("X");
    expect(annexEAction("(6002,4000)")).toBe("X");
    expect(annexEAction("(5004,0010)")).toBe("X");
    expect(annexEAction("(6000,0010)")).toBeUndefined(); // Overlay Rows is not listed
    expect(annexEAction("(0028,0010)")).toBeUndefined(); // Rows
    expect(annexEAction("(7FE0,0010)")).toBeUndefined(); // Pixel Data
    expect(annexEAction("(0008,0060)")).toBeUndefined(); // Modality
  });

  it("normalises tag spellings and rejects non-tags", () => {
    expect(normaliseTag("7fe0,0010")).toBe("(7FE0,0010)");
    expect(() => normaliseTag("0010")).toThrow(RangeError);
  });
});
