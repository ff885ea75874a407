/**
 * Consent from the consent projection (a patient's grant and its revocation), docs/fhir.md.
 */
import type { Consent, Reference } from "fhir/r4.js";
import type { GrantDoc } from "../consent/state.js";
import { SYSTEMS, actorRef, byIdentifier, patientRef } from "./common.js";

function granteeRef(g: GrantDoc["grantee"]): Reference {
  switch (g.kind) {
    case "actor":
      return actorRef(g.id);
    case "institution":
      return byIdentifier(SYSTEMS.institution, g.id);
    case "trial":
      return byIdentifier(SYSTEMS.trial, g.id);
    case "dataset":
      return byIdentifier(SYSTEMS.dataset, g.id);
  }
}

/** A grant as a Consent; a revoked grant is inactive and its provision period ends at the revocation. */
export function consentOf(g: GrantDoc): Consent {
  const end =
    g.revoked !== undefined && (g.period.end === undefined || g.revoked.at < g.period.end)
      ? g.revoked.at
      : g.period.end;
  const classes =
    g.scope === "reports-only" || g.scope === "study-reports"
      ? ["DiagnosticReport"]
      : ["ImagingStudy", "DiagnosticReport"];
  return {
    resourceType: "Consent",
    id: g.id,
    status: g.revoked === undefined ? "active" : "inactive",
    scope: {
      coding: [{ system: SYSTEMS.consentScope, code: "patient-privacy", display: "Privacy Consent" }],
    },
    category: [{ coding: [{ system: SYSTEMS.loinc, code: "59284-0", display: "Patient Consent" }] }],
    patient: patientRef(g.patient),
    dateTime: g.grantedAt,
    performer: [g.onBehalf === undefined ? patientRef(g.patient) : actorRef(g.grantedBy)],
    policyRule: { coding: [{ system: SYSTEMS.actCode, code: "OPTIN", display: "opt-in" }] },
    provision: {
      type: "permit",
      period: { start: g.period.start, ...(end === undefined ? {} : { end }) },
      actor: [
        {
          role: {
            coding: [{ system: SYSTEMS.participationType, code: "IRCP", display: "information recipient" }],
          },
          reference: granteeRef(g.grantee),
        },
      ],
      purpose: g.purposes.map((p) => ({ system: SYSTEMS.actReason, code: p })),
      class: classes.map((c) => ({ system: SYSTEMS.resourceTypes, code: c })),
      ...(g.study === undefined
        ? {}
        : { data: [{ meaning: "related" as const, reference: byIdentifier(SYSTEMS.study, g.study) }] }),
    },
  };
}
