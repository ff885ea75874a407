/**
 * FHIR R4 DiagnosticReport (with its Observations, contained or in the same Bundle) read as the
 * report an ORU^R01 carries (src/app/ris-intake/oru.ts), so both front doors record the same way
 * (docs/intake.md "FHIR"). Pure.
 *
 *   DiagnosticReport.status      registered, partial, preliminary → P; final → F; amended,
 *                                corrected, appended → C; others refused
 *   identifier (type v2-0203 ACSN), or that of a ServiceRequest in basedOn → the accession number
 *   imagingStudy → an ImagingStudy whose identifier is urn:dicom:uid → the Study Instance UID
 *   resultsInterpreter[0]        the principal interpreter; the rest assistants (a Practitioner's
 *                                first identifier value, or the id of its reference)
 *   result[] → Observation       code (LOINC, DICOM) → the section; valueString → the text;
 *                                performer[0] → who wrote it (as OBX-16)
 *   conclusion                   the impression, unless an Observation gives one
 *   id, or a non-ACSN identifier the control id (idempotency)
 */
import { RadledgerError } from "../../core/errors.js";
import type { OruReport, OruSection, ResultStatus } from "./oru.js";
import { sectionFor } from "./oru.js";

type Json = Record<string, unknown>;

const invalid = (message: string, at?: string): RadledgerError =>
  new RadledgerError(
    "HL7_MESSAGE_MALFORMED",
    `FHIR DiagnosticReport: ${message}`,
    at === undefined ? {} : { at },
  );

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined =>
  typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;

const STATUS: Readonly<Record<string, ResultStatus>> = {
  registered: "P",
  partial: "P",
  preliminary: "P",
  final: "F",
  amended: "C",
  corrected: "C",
  appended: "C",
};

const isAccession = (identifier: unknown): boolean =>
  isObject(identifier) &&
  list((identifier.type as Json | undefined)?.coding).some((c) => isObject(c) && c.code === "ACSN");

/** Resolves a Reference against contained resources (#id) and the Bundle's entries (fullUrl or Type/id). */
function resolver(report: Json, bundle: readonly Json[]): (ref: unknown) => Json | undefined {
  const contained = new Map<string, Json>();
  for (const c of list(report.contained))
    if (isObject(c) && typeof c.id === "string") contained.set(`#${c.id}`, c);
  const entries = new Map<string, Json>();
  for (const e of bundle) {
    const r = e.resource;
    if (!isObject(r)) continue;
    if (typeof e.fullUrl === "string") entries.set(e.fullUrl, r);
    if (typeof r.resourceType === "string" && typeof r.id === "string")
      entries.set(`${r.resourceType}/${r.id}`, r);
  }
  return (ref) => {
    const reference = isObject(ref) ? str(ref.reference) : undefined;
    return reference === undefined ? undefined : (contained.get(reference) ?? entries.get(reference));
  };
}

/** A Practitioner's id for the node: its first identifier's value, else the reference's id. */
function personId(ref: unknown, resolve: (r: unknown) => Json | undefined): string | undefined {
  if (!isObject(ref)) return undefined;
  const identifier = str((ref.identifier as Json | undefined)?.value);
  if (identifier) return identifier;
  const target = resolve(ref);
  const fromTarget = target ? str((list(target.identifier)[0] as Json | undefined)?.value) : undefined;
  if (fromTarget) return fromTarget;
  const reference = str(ref.reference);
  return reference?.startsWith("Practitioner/") ? reference.slice("Practitioner/".length) : undefined;
}

/** The DiagnosticReport of a request body: the resource itself, or the one in a Bundle. */
export function readDiagnosticReport(body: unknown): OruReport {
  if (!isObject(body)) throw invalid("the body is not a FHIR resource");
  let report: Json | undefined;
  let bundle: Json[] = [];
  if (body.resourceType === "Bundle") {
    bundle = list(body.entry).filter(isObject);
    const reports = bundle
      .map((e) => e.resource)
      .filter((r): r is Json => isObject(r) && r.resourceType === "DiagnosticReport");
    if (reports.length !== 1)
      throw new RadledgerError("HL7_MESSAGE_UNSUPPORTED", "a Bundle carries exactly one DiagnosticReport", {
        at: "Bundle.entry",
      });
    report = reports[0];
  } else if (body.resourceType === "DiagnosticReport") report = body;
  if (report === undefined)
    throw new RadledgerError(
      "HL7_MESSAGE_UNSUPPORTED",
      `resourceType ${String(body.resourceType)} is not DiagnosticReport or Bundle`,
      {
        at: "resourceType",
      },
    );
  const resolve = resolver(report, bundle);

  const status = STATUS[String(report.status)];
  if (status === undefined)
    throw invalid(`status ${String(report.status)} is not one the intake records`, "DiagnosticReport.status");
  const identifiers = list(report.identifier).filter(isObject);
  const controlId =
    str(report.id) ??
    identifiers
      .filter((i) => !isAccession(i))
      .map((i) => str(i.value))
      .find((v) => v !== undefined);
  if (controlId === undefined || controlId.length > 199)
    throw invalid("no id or identifier to recognise a resend by", "DiagnosticReport.id");
  const requests = list(report.basedOn)
    .map(resolve)
    .filter((r): r is Json => r !== undefined);
  const accession = [...identifiers, ...requests.flatMap((r) => list(r.identifier).filter(isObject))]
    .filter(isAccession)
    .map((i) => str(i.value))
    .find((v) => v !== undefined);
  const studyUid = list(report.imagingStudy)
    .map(resolve)
    .flatMap((s) => list(s?.identifier).filter(isObject))
    .filter((i) => i.system === "urn:dicom:uid")
    .map((i) => str(i.value)?.replace(/^urn:oid:/, ""))
    .find((v) => v !== undefined);
  const interpreters = list(report.resultsInterpreter)
    .map((r) => personId(r, resolve))
    .filter((v): v is string => v !== undefined);

  const sections: OruSection[] = [];
  for (const ref of list(report.result)) {
    const obs = resolve(ref);
    if (obs?.resourceType !== "Observation")
      throw invalid("a result is not a contained or bundled Observation", "DiagnosticReport.result");
    const coding = list((obs.code as Json | undefined)?.coding).filter(isObject)[0];
    const text = str(obs.valueString);
    if (text === undefined) continue;
    const observer = personId(list(obs.performer)[0], resolve);
    const section = sectionFor(
      str(coding?.code) ?? "",
      `${str(coding?.display) ?? ""} ${str((obs.code as Json | undefined)?.text) ?? ""}`,
    );
    sections.push({ section, text, ...(observer === undefined ? {} : { observer }) });
  }
  const conclusion = str(report.conclusion);
  if (conclusion !== undefined && !sections.some((s) => s.section === "impression"))
    sections.push({ section: "impression", text: conclusion });
  if (sections.length === 0)
    throw invalid("no report text (Observation.valueString or conclusion)", "DiagnosticReport.result");
  if (sections.some((s) => s.text.length > 64 * 1024))
    throw new RadledgerError("HL7_MESSAGE_TOO_LARGE", "a section's text exceeds 65,536 characters");
  return {
    controlId: `fhir:${controlId}`,
    version: "fhir-r4",
    ...(accession === undefined ? {} : { accession }),
    ...(studyUid === undefined ? {} : { studyUid }),
    status,
    ...(interpreters[0] === undefined ? {} : { principal: interpreters[0] }),
    assistants: interpreters.slice(1),
    technicians: [],
    sections,
  };
}
