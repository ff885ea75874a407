/**
 * DiagnosticReport with per-section attribution (docs/fhir.md).
 */
import type { DiagnosticReport, Extension } from "fhir/r4.js";
import type { ContributionView, ReportDoc } from "../reports/state.js";
import { AIAST, SECTION_EXTENSION, SYSTEMS, actorRef, byIdentifier, patientRef } from "./common.js";

function sectionExtension(c: ContributionView, authorName?: string, enteredByName?: string): Extension {
  return {
    url: SECTION_EXTENSION,
    extension: [
      { url: "section", valueCode: c.section },
      { url: "author", valueReference: actorRef(c.author, authorName) },
      ...(c.enteredBy === undefined
        ? []
        : [{ url: "enteredBy", valueReference: actorRef(c.enteredBy, enteredByName) }]),
      { url: "role", valueCode: c.role },
      ...(c.specialty === undefined ? [] : [{ url: "specialty", valueCode: c.specialty }]),
      { url: "origin", valueCode: c.origin },
      ...(c.model === undefined
        ? []
        : [{ url: "device", valueReference: { reference: `Device/${c.model}` } }]),
      { url: "contentCommitment", valueString: c.contentCommitment },
      { url: "provenance", valueReference: { reference: `Provenance/${c.id}` } },
      { url: "recorded", valueDateTime: c.time },
    ],
  };
}

/** A report with one attribution extension per section (contributions, then amendments). */
export function diagnosticReportOf(
  r: ReportDoc,
  names: (actor: string) => string | undefined = () => undefined,
): DiagnosticReport {
  const all = [...r.contributions, ...r.amendments];
  const ai = all.some((c) => c.origin !== "human");
  const status: DiagnosticReport["status"] =
    r.status === "signed" ? (r.amendments.length > 0 ? "amended" : "final") : "preliminary";
  const authors = [...new Set(all.map((c) => c.author))];
  return {
    resourceType: "DiagnosticReport",
    id: r.id,
    ...(ai ? { meta: { security: [AIAST] } } : {}),
    extension: all.map((c) =>
      sectionExtension(c, names(c.author), c.enteredBy === undefined ? undefined : names(c.enteredBy)),
    ),
    identifier: [{ system: SYSTEMS.report, value: r.id }],
    status,
    category: [{ coding: [{ system: SYSTEMS.v20074, code: "RAD", display: "Radiology" }] }],
    code: { coding: [{ system: SYSTEMS.loinc, code: "18748-4", display: "Diagnostic imaging study" }] },
    subject: patientRef(r.patient),
    ...(r.signOff === undefined ? {} : { issued: r.signOff.time }),
    performer: authors.map((a) => actorRef(a, names(a))),
    ...(r.signOff === undefined ? {} : { resultsInterpreter: [actorRef(r.signOff.by, names(r.signOff.by))] }),
    imagingStudy: [byIdentifier(SYSTEMS.study, r.study)],
  };
}
