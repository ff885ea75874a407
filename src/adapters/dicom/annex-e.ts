/**
 * Looking up the DICOM PS3.15 Annex E Basic Profile action of an attribute: the rows of Table E.1-1
 * (annex-e-table.ts, transcribed as data) plus the table's rules for repeating groups and private
 * attributes. Used by the file de-identifier (deidentify.ts) and by tests that check de-identified
 * output tag by tag.
 */
import { ANNEX_E_BASIC_PROFILE, type AnnexEAction, type AnnexERow } from "./annex-e-table.js";

export { ANNEX_E_BASIC_PROFILE, type AnnexEAction, type AnnexERow };

const byTag = new Map<string, AnnexERow>(ANNEX_E_BASIC_PROFILE.map((r) => [r.tag, r]));

/** Normalises "00100010", "0010,0010", "(0010,0010)" or "(0010,0010)" in any case to "(0010,0010)". */
export function normaliseTag(tag: string): string {
  const hex = tag.replace(/[^0-9a-fA-FxX]/g, "").toUpperCase();
  if (hex.length !== 8) throw new RangeError(`not a DICOM tag: ${tag}`);
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/**
 * The Basic Profile action for a tag, or undefined when Table E.1-1 does not list it (such
 * attributes are retained by the Basic Profile). Handles the repeating groups (50xx,xxxx) Curve
 * Data and (60xx,3000)/(60xx,4000) Overlay Data/Comments (even groups 5000–501E / 6000–601E,
 * PS3.5 §7.6), and private attributes (odd groups, PS3.5 §7.8.1).
 */
export function annexEAction(tag: string): AnnexEAction | undefined {
  const t = normaliseTag(tag);
  const exact = byTag.get(t);
  if (exact !== undefined) return exact.action;
  const group = parseInt(t.slice(1, 5), 16);
  const element = t.slice(6, 10);
  if (group % 2 === 1 && group > 0x0008 && group !== 0xffff) return "X"; // private (odd groups 0001–0007 are illegal)
  if (group >= 0x5000 && group <= 0x501e && group % 2 === 0) return "X";
  if (group >= 0x6000 && group <= 0x601e && group % 2 === 0 && (element === "3000" || element === "4000"))
    return "X";
  return undefined;
}
