/**
 * HL7 v2 ORU^R01 (Unsolicited Observation Result, HL7 v2.5.1 ch. 7.3.1) as a radiology report
 * (docs/intake.md). Parsing is @medplum/core's Hl7Message; this module reads the fields a RIS fills
 * for an imaging report and turns them into what the report entries need. Pure: no I/O, no node.
 *
 * Fields read (v2.3–2.5.1 keep these positions):
 *   MSH-9 message type (ORU^R01 only), MSH-10 control id (idempotency), MSH-12 version
 *   OBR-3 filler order number, OBR-18 placer field 1, OBR-19 placer field 2 — accession number
 *     candidates (IHE RAD TF-2 4.4 / SWF: the RIS's accession is OBR-18 in v2.3.1 orders; many RIS
 *     echo it as the filler order number OBR-3 in results); the first non-empty one is used
 *   OBR-25 result status: P preliminary, A some results, F final, C correction (HL7 table 0123)
 *   OBR-32 principal result interpreter, OBR-33 assistant result interpreter, OBR-34 technician
 *     (NDL: component 1 is CNN, whose first subcomponent is the person's ID number)
 *   OBX-2 value type (TX, FT, ST; others are skipped: they are not report text), OBX-3 observation
 *   identifier (the section), OBX-4 sub-id, OBX-5 the text (repetitions are lines), OBX-16
 *   responsible observer (XCN.1: who wrote that observation, when not the principal interpreter)
 *   An OBX with OBX-3 code 113014 (DCM "Study") and value the Study Instance UID names the study
 *   directly (IHE RAD TF "Study Instance UID" OBX); it is not report text.
 */
import { Hl7Message, type Hl7Field, type Hl7Segment } from "@medplum/core";
import { RadledgerError } from "../../core/errors.js";
import type { Section } from "../../domain/reports/entries.js";

export type ResultStatus = "P" | "A" | "F" | "C";

export interface OruSection {
  readonly section: Section;
  readonly text: string;
  /** OBX-16 responsible observer's id, when the OBX names one. */
  readonly observer?: string;
}

export interface OruReport {
  readonly controlId: string;
  readonly version: string;
  /** The accession number as sent (raw: pseudonymise before keeping it anywhere). */
  readonly accession?: string;
  /** The Study Instance UID, when an OBX carries it (raw, likewise). */
  readonly studyUid?: string;
  readonly status: ResultStatus;
  readonly principal?: string;
  readonly assistants: readonly string[];
  readonly technicians: readonly string[];
  readonly sections: readonly OruSection[];
}

/** HL7 versions this intake reads (MSH-12). */
export const SUPPORTED_VERSIONS = ["2.3", "2.3.1", "2.4", "2.5", "2.5.1"] as const;

const MAX_TEXT = 64 * 1024;

/**
 * Section by OBX-3 code: LOINC radiology report sections (the codes of HL7 CDA DIR / C-CDA imaging
 * reports) and DICOM PS3.16 CID 7001 section headings; then by the identifier's text.
 */
const SECTION_BY_CODE: Readonly<Record<string, Section>> = {
  "11329-0": "history",
  "55752-0": "history",
  "121060": "history",
  "55111-9": "technique",
  "121064": "technique",
  "18834-2": "comparison",
  "121062": "comparison",
  "18782-3": "findings",
  "59776-5": "findings",
  "121070": "findings",
  "19005-8": "impression",
  "121072": "impression",
  "18783-1": "recommendation",
  "121074": "recommendation",
};

const SECTION_BY_WORD: readonly (readonly [RegExp, Section])[] = [
  [/histor|clinical|indication|\bHIS\b/i, "history"],
  [/techni|procedure|protocol|\bTCM\b/i, "technique"],
  [/compar/i, "comparison"],
  [/impress|conclusion|\bIMP\b/i, "impression"],
  [/recommend|\bREC\b/i, "recommendation"],
  [/finding|report|result|\bGDT\b|\bFND\b/i, "findings"],
];

/** The section an observation code (LOINC, DICOM) or its display names; findings when none. */
export function sectionFor(code: string, display = ""): Section {
  const byCode = SECTION_BY_CODE[code.trim()];
  if (byCode) return byCode;
  const words = `${code} ${display}`;
  for (const [re, section] of SECTION_BY_WORD) if (re.test(words)) return section;
  return "findings";
}

const sectionOf = (obx: Hl7Segment): Section => sectionFor(obx.getComponent(3, 1), obx.getComponent(3, 2));

/**
 * HL7 escape sequences in text (v2.5.1 §2.7): \F\ \S\ \T\ \R\ \E\ (the delimiters), \.br\ a line
 * break (FT), \Xhh..\ hex; other formatting commands (\.sp\, \H\, \N\ …) are dropped.
 */
export function unescapeHl7(text: string, separators = "|^&~\\"): string {
  const [f, s, t, r, e] = separators;
  return text.replace(/\\([^\\]*)\\/g, (_m, seq: string) => {
    if (seq === "F") return f!;
    if (seq === "S") return s!;
    if (seq === "T") return t!;
    if (seq === "R") return r!;
    if (seq === "E") return e!;
    if (seq === ".br") return "\n";
    if (/^X([0-9A-Fa-f]{2})+$/.test(seq))
      return String.fromCharCode(...(seq.slice(1).match(/../g) ?? []).map((h) => parseInt(h, 16)));
    return "";
  });
}

/** The ID number of an NDL/XCN field's repetitions (component 1, first subcomponent). */
function ids(segment: Hl7Segment, field: number): string[] {
  // Past the segment's last field there is none (the library's type says otherwise).
  const f = segment.getField(field) as Hl7Field | undefined;
  if (f === undefined) return [];
  const out: string[] = [];
  for (let rep = 0; rep < f.components.length; rep++) {
    const id = f.getComponent(1, 0, rep).trim();
    if (id !== "") out.push(id);
  }
  return out;
}

const malformed = (message: string, at?: string): RadledgerError =>
  new RadledgerError("HL7_MESSAGE_MALFORMED", message, at === undefined ? {} : { at });

/** The control id of a message that may be refused before it is read (for the ACK's MSA-2). */
export function controlIdOf(text: string): string {
  const msh = text.split(/[\r\n]+/, 1)[0] ?? "";
  const sep = msh.charAt(3);
  return msh.startsWith("MSH") && sep !== "" ? (msh.split(sep)[9] ?? "").split(msh.charAt(4))[0]! : "";
}

/** Parses an HL7 message (Hl7Message.parse), refusing what is not one with HL7_MESSAGE_MALFORMED. */
export function parseHl7(text: string): Hl7Message {
  if (!/^MSH[^A-Za-z0-9\r\n]/.test(text))
    throw malformed("not an HL7 v2 message: it does not start with MSH");
  try {
    return Hl7Message.parse(text);
  } catch (e) {
    throw malformed(`not an HL7 v2 message: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Reads an ORU^R01 into the report it carries; refuses anything else with a coded error (→ AR). */
export function readOru(message: Hl7Message): OruReport {
  const msh = message.getSegment("MSH");
  if (!msh) throw malformed("no MSH segment", "MSH");
  const controlId = msh.getComponent(10, 1).trim();
  if (controlId === "" || controlId.length > 199) throw malformed("no message control id", "MSH-10");
  const type = `${msh.getComponent(9, 1)}^${msh.getComponent(9, 2)}`;
  if (type !== "ORU^R01")
    throw new RadledgerError("HL7_MESSAGE_UNSUPPORTED", `message type ${type} is not ORU^R01`, {
      at: "MSH-9",
    });
  const version = msh.getComponent(12, 1).trim();
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version))
    throw new RadledgerError(
      "HL7_MESSAGE_UNSUPPORTED",
      `HL7 version ${version || "(none)"} is not one of ${SUPPORTED_VERSIONS.join(", ")}`,
      { at: "MSH-12" },
    );
  const obrs = message.getAllSegments("OBR");
  if (obrs.length === 0) throw malformed("no OBR segment: an ORU^R01 carries an observation request", "OBR");
  if (obrs.length > 1)
    throw new RadledgerError("HL7_MESSAGE_UNSUPPORTED", "one report (OBR) per message", { at: "OBR" });
  const obr = obrs[0]!;
  const accession = [obr.getComponent(3, 1), obr.getComponent(18, 1), obr.getComponent(19, 1)]
    .map((a) => a.trim())
    .find((a) => a !== "");
  const status = obr.getComponent(25, 1).trim().toUpperCase();
  if (status !== "P" && status !== "A" && status !== "F" && status !== "C")
    throw malformed(`result status ${status || "(none)"} is not P, A, F or C`, "OBR-25");

  let studyUid: string | undefined;
  const groups = new Map<string, { section: Section; lines: string[]; observer?: string }>();
  for (const obx of message.getAllSegments("OBX")) {
    const code = obx.getComponent(3, 1).trim();
    const valueType = obx.getComponent(2, 1).trim().toUpperCase();
    if (code === "113014") {
      studyUid = obx.getComponent(5, 1).trim();
      continue;
    }
    if (valueType !== "TX" && valueType !== "FT" && valueType !== "ST") continue;
    const value = obx.getField(5) as Hl7Field | undefined;
    const lines: string[] = [];
    for (let rep = 0; value && rep < value.components.length; rep++)
      lines.push(unescapeHl7(value.components[rep]!.join(message.context.componentSeparator)));
    // Repeated OBX of one section (same OBX-3 and OBX-4 sub-id) are the lines of one text.
    const key = `${code}\u0000${obx.getComponent(3, 2).trim()}\u0000${obx.getComponent(4, 1).trim()}`;
    let g = groups.get(key);
    if (!g) {
      const observer = ids(obx, 16)[0];
      g = { section: sectionOf(obx), lines: [], ...(observer === undefined ? {} : { observer }) };
      groups.set(key, g);
    }
    g.lines.push(...lines);
  }
  // Groups of the same section (and observer) are one contribution: their texts joined in order.
  const sections: OruSection[] = [];
  for (const g of groups.values()) {
    const text = g.lines.join("\n").trim();
    if (text === "") continue;
    const same = sections.findIndex((s) => s.section === g.section && s.observer === g.observer);
    if (same >= 0) sections[same] = { ...sections[same]!, text: `${sections[same]!.text}\n${text}` };
    else
      sections.push({
        section: g.section,
        text,
        ...(g.observer === undefined ? {} : { observer: g.observer }),
      });
  }
  if (sections.length === 0)
    throw malformed("no report text: no OBX of value type TX, FT or ST with a value", "OBX");
  if (sections.some((s) => s.text.length > MAX_TEXT))
    throw new RadledgerError("HL7_MESSAGE_TOO_LARGE", `a section's text exceeds ${MAX_TEXT} characters`, {
      at: "OBX-5",
    });
  return {
    controlId,
    version,
    ...(accession === undefined ? {} : { accession }),
    ...(studyUid === undefined || studyUid === "" ? {} : { studyUid }),
    status,
    ...(ids(obr, 32)[0] === undefined ? {} : { principal: ids(obr, 32)[0]! }),
    assistants: ids(obr, 33),
    technicians: ids(obr, 34),
    sections,
  };
}
