/**
 * A patient's grant (and its revocation) as an IHE PCF Consent (Privacy Consent on FHIR 1.1.x,
 * https://profiles.ihe.net/ITI/PCF; rules from github.com/IHE/ITI.PCF input/fsh/consent.fsh, the
 * FoundationConsent RuleSet and the IntermediateConsent profile, IHE.PCF.consentIntermediate —
 * Intermediate because a study-scoped grant names its data, which Basic forbids):
 *
 *   status 1..1 (active; inactive once revoked), scope = consentscope#patient-privacy, category 1..
 *   (LOINC 59284-0 Patient Consent), patient 1..1, dateTime 1..1, performer 1.. (the patient, or the
 *   institution's signer for an on-behalf grant), organization 1.. (the node's institution, which
 *   enforces it), source[x] 1..1 (the signed consent.granted log entry), policy.uri 1..1
 *   (POLICY_URI), provision 1..1 with type permit, period (ending at the revocation), actor with role
 *   IRCP (the grantee), purpose (v3 ActReason), data[iData] (meaning instance: the study of a study
 *   scope). provision.class, .action, .code and verification are 0..0 and policyRule "not used" in
 *   PCF, so the grant's scope kind travels in the SCOPE_EXTENSION on provision.
 */
import type { Consent, Reference } from "fhir/r4.js";
import type { GrantDoc } from "../consent/state.js";
import { PCF, SYSTEMS, actorRef, byIdentifier, patientRef } from "./common.js";

/** The privacy policy a radledger grant is made under (docs/fhir.md, "Consent"). */
export const POLICY_URI = "https://radledger.dev/fhir/policy/patient-grant";
/** Extension on Consent.provision carrying the grant's scope kind (docs/fhir.md). */
export const SCOPE_EXTENSION = "https://radledger.dev/fhir/StructureDefinition/grant-scope";

export function granteeRef(g: GrantDoc["grantee"]): Reference {
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

/**
 * A grant as a PCF Consent; `origin` is the node (its institution presents and enforces the policy).
 * A revoked grant is inactive and its provision period ends at the revocation.
 */
export function consentOf(g: GrantDoc, origin?: string): Consent {
  const end =
    g.revoked !== undefined && (g.period.end === undefined || g.revoked.at < g.period.end)
      ? g.revoked.at
      : g.period.end;
  return {
    resourceType: "Consent",
    id: g.id,
    meta: { profile: [PCF.intermediate] },
    status: g.revoked === undefined ? "active" : "inactive",
    scope: {
      coding: [{ system: SYSTEMS.consentScope, code: "patient-privacy", display: "Privacy Consent" }],
    },
    category: [{ coding: [{ system: SYSTEMS.loinc, code: "59284-0", display: "Patient Consent" }] }],
    patient: patientRef(g.patient),
    dateTime: g.grantedAt,
    performer: [g.onBehalf === undefined ? patientRef(g.patient) : actorRef(g.grantedBy)],
    ...(origin === undefined ? {} : { organization: [byIdentifier(SYSTEMS.institution, origin)] }),
    sourceReference: byIdentifier(SYSTEMS.entry, g.id, "signed consent.granted entry"),
    policy: [{ uri: POLICY_URI }],
    provision: {
      extension: [{ url: SCOPE_EXTENSION, valueCode: g.scope }],
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
      ...(g.study === undefined
        ? {}
        : { data: [{ meaning: "instance" as const, reference: byIdentifier(SYSTEMS.study, g.study) }] }),
    },
  };
}
