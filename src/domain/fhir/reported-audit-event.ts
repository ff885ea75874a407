/**
 * A reported access (access.reported: an ATNA event another hospital system sent over syslog or
 * FHIR, docs/audit.md) as a FHIR R4 AuditEvent shaped like IHE BALP
 * (https://profiles.ihe.net/ITI/BALP): the event's own codes, action, time, outcome and purposes as
 * the system reported them; its participants as agents; the reporting system's enrolled actor as
 * source.observer (the entry is that system's signed statement, not the node's decision); the
 * patient and studies as the node's pseudonyms. Pure.
 */
import type { AuditEvent, AuditEventAgent, Coding } from "fhir/r4.js";
import type { AccessReportedBody, ReportedAccessDoc } from "../access/reported.js";
import { actorRef, BALP, patientRef, SYSTEMS } from "./resources.js";

/** DICOM's coding scheme designators (PS3.16 §8) to FHIR code system URIs; others kept as given. */
const SYSTEM_OF: Readonly<Record<string, string>> = {
  DCM: SYSTEMS.dcm,
  "RFC-3881": "http://terminology.hl7.org/CodeSystem/audit-event-type",
  IHE: "urn:ihe:event-type-code",
};

type Code = AccessReportedBody["event"]["id"];

function codingOf(c: Code): Coding {
  const system = c.system === undefined ? undefined : (SYSTEM_OF[c.system] ?? c.system);
  return {
    ...(system === undefined ? {} : { system }),
    code: c.code,
    ...(c.display === undefined ? {} : { display: c.display }),
  };
}

/** A pseudonymised participant (the patient acting as a user) is a patient reference. */
function agentOf(p: AccessReportedBody["participants"][number]): AuditEventAgent {
  return {
    ...(p.roles === undefined ? {} : { role: [{ coding: p.roles.map(codingOf) }] }),
    who: p.userId.startsWith("pt_") ? patientRef(p.userId) : { identifier: { value: p.userId } },
    requestor: p.requestor,
    ...(p.networkAccessPoint === undefined
      ? {}
      : {
          network: {
            address: p.networkAccessPoint.id,
            ...(p.networkAccessPoint.type === undefined
              ? {}
              : { type: p.networkAccessPoint.type as "1" | "2" | "3" | "4" | "5" }),
          },
        }),
  };
}

/** BALP-shaped AuditEvent of one reported access; `systemName` is the reporting actor's display name. */
export function reportedAuditEventOf(r: ReportedAccessDoc, systemName?: string): AuditEvent {
  const b = r.body;
  const e = b.event;
  return {
    resourceType: "AuditEvent",
    id: r.id,
    meta: { profile: [BALP.patientRead] },
    type: codingOf(e.id),
    ...(e.types === undefined ? {} : { subtype: e.types.map(codingOf) }),
    ...(e.action === undefined ? {} : { action: e.action }),
    recorded: e.time,
    outcome: String(e.outcome) as "0" | "4" | "8" | "12",
    outcomeDesc: `reported by ${r.reportedBy} over ${b.transport}; entry ${r.index} at ${r.time}`,
    ...(e.purposes === undefined ? {} : { purposeOfEvent: [{ coding: e.purposes.map(codingOf) }] }),
    agent: b.participants.map(agentOf),
    source: {
      ...(b.source.site === undefined ? {} : { site: b.source.site }),
      // The observer is the enrolled system actor that signed the report; the id the system
      // gave itself (AuditSourceID, source.observer) is kept as the reference's display.
      observer: actorRef(r.reportedBy, systemName ?? b.source.id),
    },
    entity: [
      {
        what: patientRef(b.patient),
        type: { system: SYSTEMS.auditEntityType, code: "1", display: "Person" },
        role: { system: SYSTEMS.objectRole, code: "1", display: "Patient" },
      },
      ...(b.studies ?? []).map((s) => ({
        what: { identifier: { system: SYSTEMS.study, value: s } },
        type: { system: SYSTEMS.auditEntityType, code: "2", display: "System Object" },
        role: { system: SYSTEMS.objectRole, code: "3", display: "Report" },
      })),
    ],
  };
}
