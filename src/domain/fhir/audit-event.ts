/**
 * AuditEvent from the access projection, following IHE Basic Audit Log Patterns (docs/fhir.md).
 */
import type { AuditEvent, Coding } from "fhir/r4.js";
import type { AccessDoc } from "../access/state.js";
import { BALP, SYSTEMS, actorRef, byIdentifier, instant, patientRef } from "./common.js";

/** The accessed part; the whole record ("record") is the Patient entity itself, so it has none. */
function partEntity(
  p: Exclude<AccessDoc["part"], { kind: "record" }>,
): NonNullable<AuditEvent["entity"]>[number] {
  const system =
    p.kind === "study"
      ? SYSTEMS.study
      : p.kind === "series"
        ? SYSTEMS.series
        : p.kind === "instance"
          ? SYSTEMS.instance
          : p.kind === "dataset"
            ? SYSTEMS.dataset
            : SYSTEMS.report;
  return {
    what: byIdentifier(system, p.id),
    type: { system: SYSTEMS.auditEntityType, code: "2", display: "System Object" },
    role: { system: SYSTEMS.objectRole, code: "4", display: "Domain Resource" },
    description: p.kind,
  };
}

/** IHE BALP PatientRead (Read with the patient entity) for one gatekeeper decision. */
export function auditEventOf(a: AccessDoc, origin: string, actorName?: string): AuditEvent {
  const purposes: Coding[] = [{ system: SYSTEMS.actReason, code: a.purpose }];
  if (a.basis?.kind === "break-glass")
    purposes.push({ system: SYSTEMS.actReason, code: "BTG", display: "break the glass" });
  return {
    resourceType: "AuditEvent",
    id: a.id,
    meta: { profile: [BALP.patientRead] },
    type: { system: SYSTEMS.auditEventType, code: "rest", display: "RESTful Operation" },
    subtype: [{ system: SYSTEMS.restfulInteraction, code: "read", display: "read" }],
    action: "R",
    recorded: instant(a.time),
    outcome: a.decision === "permit" ? "0" : "4",
    outcomeDesc:
      a.decision === "permit"
        ? `permit: ${a.basis?.kind ?? "?"}${a.basis?.kind === "break-glass" ? ` (${a.basis.reason ?? ""}; review ${a.review?.open === false ? (a.review.outcome ?? "closed") : "open"})` : ""}`
        : `deny: ${a.reason ?? "?"}`,
    purposeOfEvent: [{ coding: purposes }],
    agent: [
      {
        type: {
          coding: [{ system: SYSTEMS.participationType, code: "IRCP", display: "information recipient" }],
        },
        who: actorRef(a.actor, actorName),
        requestor: true,
        purposeOfUse: [{ coding: purposes }],
      },
      {
        type: { coding: [{ system: SYSTEMS.dcm, code: "110153", display: "Source Role ID" }] },
        who: byIdentifier(SYSTEMS.institution, origin),
        requestor: false,
      },
    ],
    source: {
      observer: byIdentifier(SYSTEMS.institution, origin, "radledger gatekeeper"),
      type: [{ system: SYSTEMS.securitySourceType, code: "4", display: "Application Server" }],
    },
    entity: [
      {
        what: patientRef(a.patient),
        type: { system: SYSTEMS.auditEntityType, code: "1", display: "Person" },
        role: { system: SYSTEMS.objectRole, code: "1", display: "Patient" },
      },
      ...(a.part.kind === "record" ? [] : [partEntity(a.part)]),
    ],
  };
}
