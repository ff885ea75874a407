/**
 * Recognises AI result objects and reads what the ledger records of them (docs/intake.md "AI results
 * from DICOM"):
 *
 *  - Structured Reports (Enhanced, Comprehensive, Comprehensive 3D, Extensible SR) whose root is
 *    TID 1500 Measurement Report, (126000, DCM) — PS3.16 TID 1500. The model is named by TID 4019
 *    Algorithm Identification in the measurement groups (111001 Algorithm Name, 111003 Algorithm
 *    Version, 111002 Algorithm Parameters; TID 1501/1410/1411 include it) or by the TID 1004 device
 *    observer of the observation context (121005 Observer Type = 121007 Device; 121013 Device
 *    Observer Name, 121014 Manufacturer, 121015 Model Name). Findings: the Measurement Groups
 *    (125007) in the report. A TID 1500 report with neither is a clinician's: not an AI result.
 *  - Segmentations (PS3.3 A.51, C.8.20.2): Segment Sequence (0062,0002) items whose Segment Algorithm
 *    Type (0062,0008) is AUTOMATIC or SEMIAUTOMATIC, named by Segment Algorithm Name (0062,0009, Type
 *    1C: required then); vendor and version from Manufacturer (0008,0070) and Software Versions
 *    (0018,1020). Findings: the algorithm's segments. A MANUAL-only SEG is a clinician's.
 *  - Parametric Maps (PS3.3 A.75): made by software by definition; named by the Enhanced General
 *    Equipment module (Manufacturer, Manufacturer's Model Name (0008,1090), Software Versions, all
 *    Type 1 there).
 *
 * The workitem (IHE AIW-I: the AI Manager's UPS) is found where PS3.3 C.7.3.1 puts the procedure
 * step a series was produced by: Referenced Performed Procedure Step Sequence (0008,1111) whose
 * Referenced SOP Class UID is a Unified Procedure Step class (1.2.840.10008.5.1.4.34.6.x, PS3.4 CC).
 * The source study: the object's own Study Instance UID (AIW-I stores results in the study they were
 * made from), unless an SR's Current Requested Procedure Evidence Sequence (0040,A375) names exactly
 * one other study.
 */
import type { AiResultObject } from "../../ports/imaging.js";
import { parseDataSetTree, text, texts, type DicomDataSet } from "./dataset-tree.js";
import { DicomError } from "./errors.js";

const SR_CLASSES = new Set([
  "1.2.840.10008.5.1.4.1.1.88.22", // Enhanced SR
  "1.2.840.10008.5.1.4.1.1.88.33", // Comprehensive SR
  "1.2.840.10008.5.1.4.1.1.88.34", // Comprehensive 3D SR
  "1.2.840.10008.5.1.4.1.1.88.35", // Extensible SR
]);
export const SEGMENTATION = "1.2.840.10008.5.1.4.1.1.66.4";
export const PARAMETRIC_MAP = "1.2.840.10008.5.1.4.1.1.30";
const UPS_CLASS_PREFIX = "1.2.840.10008.5.1.4.34.6.";

const tag = (g: number, e: number): number => g * 0x10000 + e;
const A = {
  SpecificCharacterSet: tag(0x0008, 0x0005),
  SOPClassUID: tag(0x0008, 0x0016),
  SOPInstanceUID: tag(0x0008, 0x0018),
  Manufacturer: tag(0x0008, 0x0070),
  CodeValue: tag(0x0008, 0x0100),
  CodingSchemeDesignator: tag(0x0008, 0x0102),
  ManufacturerModelName: tag(0x0008, 0x1090),
  ReferencedPerformedProcedureStepSequence: tag(0x0008, 0x1111),
  ReferencedSOPClassUID: tag(0x0008, 0x1150),
  ReferencedSOPInstanceUID: tag(0x0008, 0x1155),
  SoftwareVersions: tag(0x0018, 0x1020),
  StudyInstanceUID: tag(0x0020, 0x000d),
  RelationshipType: tag(0x0040, 0xa010),
  ValueType: tag(0x0040, 0xa040),
  ConceptNameCodeSequence: tag(0x0040, 0xa043),
  TextValue: tag(0x0040, 0xa160),
  ConceptCodeSequence: tag(0x0040, 0xa168),
  CurrentRequestedProcedureEvidenceSequence: tag(0x0040, 0xa375),
  ContentSequence: tag(0x0040, 0xa730),
  SegmentSequence: tag(0x0062, 0x0002),
  SegmentAlgorithmType: tag(0x0062, 0x0008),
  SegmentAlgorithmName: tag(0x0062, 0x0009),
} as const;

export function mayBeAiResult(sopClassUid: string): boolean {
  return SR_CLASSES.has(sopClassUid) || sopClassUid === SEGMENTATION || sopClassUid === PARAMETRIC_MAP;
}

/** "code|scheme" of the first item of a code sequence. */
function codeOf(ds: DicomDataSet, seq: number): string | undefined {
  const item = ds.get(seq)?.items?.[0];
  if (item === undefined) return undefined;
  return `${text(item.get(A.CodeValue)) ?? ""}|${text(item.get(A.CodingSchemeDesignator)) ?? ""}`;
}

interface SrFacts {
  algorithms: { name?: string; version?: string }[];
  device: { name?: string; manufacturer?: string; model?: string } | undefined;
  groups: number;
}

/** Walks the SR content tree (PS3.3 C.17.3), depth first. */
function walkSr(root: DicomDataSet, utf8: boolean): SrFacts {
  const facts: SrFacts = { algorithms: [], device: undefined, groups: 0 };
  const visit = (items: readonly DicomDataSet[]): void => {
    let algorithm: { name?: string; version?: string } | undefined;
    let observer: "device" | "person" | undefined;
    const device: { name?: string; manufacturer?: string; model?: string } = {};
    for (const item of items) {
      const concept = codeOf(item, A.ConceptNameCodeSequence);
      const value = text(item.get(A.TextValue), utf8);
      switch (concept) {
        case "111001|DCM": // Algorithm Name (TID 4019)
          algorithm = { ...algorithm, ...(value === undefined ? {} : { name: value }) };
          break;
        case "111003|DCM": // Algorithm Version (TID 4019)
          algorithm = { ...algorithm, ...(value === undefined ? {} : { version: value }) };
          break;
        case "121005|DCM": // Observer Type (TID 1002)
          observer = codeOf(item, A.ConceptCodeSequence) === "121007|DCM" ? "device" : "person";
          break;
        case "121013|DCM": // Device Observer Name (TID 1004)
          if (value !== undefined) device.name = value;
          break;
        case "121014|DCM": // Device Observer Manufacturer
          if (value !== undefined) device.manufacturer = value;
          break;
        case "121015|DCM": // Device Observer Model Name
          if (value !== undefined) device.model = value;
          break;
        case "125007|DCM": // Measurement Group (TID 1501 / 1410 / 1411)
          if (text(item.get(A.ValueType)) === "CONTAINER") facts.groups++;
          break;
      }
      const children = item.get(A.ContentSequence)?.items;
      if (children !== undefined) visit(children);
    }
    if (algorithm !== undefined) facts.algorithms.push(algorithm);
    if (observer === "device" && facts.device === undefined) facts.device = device;
  };
  visit(root.get(A.ContentSequence)?.items ?? []);
  return facts;
}

function workitemOf(ds: DicomDataSet): string | undefined {
  for (const item of ds.get(A.ReferencedPerformedProcedureStepSequence)?.items ?? []) {
    const cls = text(item.get(A.ReferencedSOPClassUID));
    const uid = text(item.get(A.ReferencedSOPInstanceUID));
    if (cls?.startsWith(UPS_CLASS_PREFIX) === true && uid !== undefined) return uid;
  }
  return undefined;
}

function sourceStudyOf(ds: DicomDataSet, own: string): string {
  const evidence = new Set<string>();
  for (const item of ds.get(A.CurrentRequestedProcedureEvidenceSequence)?.items ?? []) {
    const uid = text(item.get(A.StudyInstanceUID));
    if (uid !== undefined) evidence.add(uid);
  }
  if (evidence.size === 1 && !evidence.has(own)) return [...evidence][0]!;
  return own;
}

/** The fields that have a value (exactOptionalPropertyTypes: absent, never undefined). */
const defined = <T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };

/** The AI result an object holds, or null when it is none (see the module comment). */
export function readAiResult(bytes: Uint8Array): AiResultObject | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { meta, dataSet: ds } = parseDataSetTree(buf);
  const sopClassUid = text(ds.get(A.SOPClassUID)) ?? text(meta.get(0x00020002));
  const sopInstanceUid = text(ds.get(A.SOPInstanceUID)) ?? text(meta.get(0x00020003));
  const study = text(ds.get(A.StudyInstanceUID));
  if (sopClassUid === undefined || !mayBeAiResult(sopClassUid)) return null;
  if (sopInstanceUid === undefined || study === undefined)
    throw new DicomError("DICOM_MISSING_ATTRIBUTE", "missing SOP Instance UID or Study Instance UID");
  const utf8 = (text(ds.get(A.SpecificCharacterSet)) ?? "").includes("ISO_IR 192");
  const equipment = {
    vendor: text(ds.get(A.Manufacturer), utf8),
    model: text(ds.get(A.ManufacturerModelName), utf8),
    version: texts(ds.get(A.SoftwareVersions), utf8)[0],
  };
  const base = {
    sopClassUid,
    sopInstanceUid,
    sourceStudyInstanceUid: sourceStudyOf(ds, study),
    ...defined({ workitemUid: workitemOf(ds) }),
  };

  if (SR_CLASSES.has(sopClassUid)) {
    // TID 1500's root: CONTAINER (126000, DCM, "Imaging Measurement Report").
    if (codeOf(ds, A.ConceptNameCodeSequence) !== "126000|DCM") return null;
    const f = walkSr(ds, utf8);
    const named = new Map(f.algorithms.map((a) => [`${a.name ?? ""}\n${a.version ?? ""}`, a]));
    if (named.size > 0) {
      const a = [...named.values()][0]!;
      return {
        kind: "sr",
        ...base,
        identifiedBy: "algorithm-identification",
        ...defined({
          vendor: f.device?.manufacturer ?? equipment.vendor,
          name: a.name,
          version: a.version ?? equipment.version,
        }),
        ambiguous: named.size > 1,
        findingCount: f.groups,
      };
    }
    if (f.device === undefined) return null; // a person observed: a clinician's measurement report
    return {
      kind: "sr",
      ...base,
      identifiedBy: "device-observer",
      ...defined({
        vendor: f.device.manufacturer ?? equipment.vendor,
        name: f.device.model ?? f.device.name,
        version: equipment.version,
      }),
      ambiguous: false,
      findingCount: f.groups,
    };
  }

  if (sopClassUid === SEGMENTATION) {
    const segments = ds.get(A.SegmentSequence)?.items ?? [];
    const byAlgorithm = segments.filter((s) => {
      const type = text(s.get(A.SegmentAlgorithmType));
      return type === "AUTOMATIC" || type === "SEMIAUTOMATIC";
    });
    if (byAlgorithm.length === 0) return null; // MANUAL only: drawn by a person
    const names = new Set(byAlgorithm.map((s) => text(s.get(A.SegmentAlgorithmName), utf8)));
    const name = [...names][0];
    return {
      kind: "seg",
      ...base,
      identifiedBy: "segment-algorithm",
      ...defined({ vendor: equipment.vendor, name, version: equipment.version }),
      ambiguous: names.size > 1,
      findingCount: byAlgorithm.length,
    };
  }

  return {
    kind: "pm",
    ...base,
    identifiedBy: "equipment",
    ...defined({ vendor: equipment.vendor, name: equipment.model, version: equipment.version }),
    ambiguous: false,
    findingCount: 0,
  };
}
