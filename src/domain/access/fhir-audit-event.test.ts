/**
 * FHIR R4 AuditEvent → the internal audit event (./fhir-audit-event.ts): the same shape the syslog
 * XML reader gives, so one intake records both; malformed resources are AUDIT_MESSAGE_MALFORMED
 * naming the element, never its value.
 */
import { expect, test } from "vitest";
import { isRadledgerError } from "../../core/errors.js";
import { isPatientObject, isStudyObject, parseAuditMessage, patientIdOf } from "./audit-message.js";
import { parseFhirAuditEvent } from "./fhir-audit-event.js";
import { auditMessageXml } from "../../../test/helpers/audit-messages.js";

const DCM = "http://dicom.nema.org/resources/ontology/DCM";
const base = {
  resourceType: "AuditEvent",
  type: { system: DCM, code: "110110", display: "Patient Record" },
  subtype: [{ system: "urn:ihe:event-type-code", code: "ITI-9" }],
  action: "R",
  recorded: "2026-01-02T03:04:05.6-05:00",
  outcome: "4",
  purposeOfEvent: [{ coding: [{ code: "TREAT" }, { code: "ETREAT" }] }],
  agent: [
    {
      type: { coding: [{ system: DCM, code: "110153", display: "Source Role ID" }] },
      role: [{ coding: [{ code: "RAD" }] }],
      who: { identifier: { system: "urn:oid:1.2", value: "jdoe" } },
      altId: "jd-42",
      name: "John Doe",
      requestor: false,
      network: { address: "ws-7.example", type: "1" },
    },
    { who: { reference: "Device/pacs" }, requestor: true },
  ],
  source: { site: "Main", observer: { display: "PACS_1" }, type: [{ code: "4" }] },
  entity: [
    { what: { reference: "Patient/123", identifier: { value: "MRN-1^^^&1.2.3&ISO" } } },
    {
      what: { identifier: { system: "urn:dicom:uid", value: "urn:oid:1.2.840.1" } },
      type: { code: "2" },
      role: { code: "3" },
    },
    { what: { identifier: { type: { coding: [{ code: "110180" }] }, value: "1.2.840.2" } } },
    { what: { reference: "DocumentReference/9" }, type: { code: "2" }, role: { code: "4" } },
  ],
};

function codeOf(resource: unknown): string {
  try {
    parseFhirAuditEvent(resource);
  } catch (e) {
    if (isRadledgerError(e)) return `${e.code} ${String(e.details.at)}`;
    throw e;
  }
  return "accepted";
}

test("every field of ITI-20's AuditEvent maps to the event the syslog path reads", () => {
  const e = parseFhirAuditEvent(base);
  expect(e.event).toEqual({
    id: { code: "110110", system: DCM, display: "Patient Record" },
    types: [{ code: "ITI-9", system: "urn:ihe:event-type-code" }],
    action: "R",
    time: "2026-01-02T08:04:05.600Z",
    outcome: 4,
    purposes: [{ code: "TREAT" }, { code: "ETREAT" }],
  });
  expect(e.participants).toEqual([
    {
      userId: "jdoe",
      alternativeUserId: "jd-42",
      userName: "John Doe",
      requestor: false,
      roles: [{ code: "110153", system: DCM, display: "Source Role ID" }, { code: "RAD" }],
      networkAccessPoint: { id: "ws-7.example", type: "1" },
    },
    { userId: "Device/pacs", requestor: true, roles: [] },
  ]);
  expect(e.sources).toEqual([{ id: "PACS_1", site: "Main", types: [{ code: "4" }] }]);
  // The patient (by a Patient reference with its identifier) and two studies; the document is not kept.
  expect(e.objects.filter(isPatientObject).map(patientIdOf)).toEqual(["MRN-1"]);
  expect(e.objects.filter(isStudyObject).map((o) => o.id)).toEqual(["1.2.840.1", "1.2.840.2"]);
  expect(e.objects).toHaveLength(3);
});

test("the FHIR event and the DICOM message of the same access read alike", () => {
  const xml = parseAuditMessage(auditMessageXml({ studyUid: "1.2.3.4" }));
  const patient = xml.objects.find(isPatientObject)!;
  const fhir = parseFhirAuditEvent({
    ...base,
    entity: [
      { what: { identifier: { value: patient.id } }, type: { code: "1" }, role: { code: "1" } },
      { what: { identifier: { system: "urn:dicom:uid", value: "1.2.3.4" } } },
    ],
  });
  expect(fhir.objects.filter(isPatientObject).map(patientIdOf)).toEqual(
    xml.objects.filter(isPatientObject).map(patientIdOf),
  );
  expect(fhir.objects.filter(isStudyObject).map((o) => o.id)).toEqual(["1.2.3.4"]);
});

test("malformed resources are AUDIT_MESSAGE_MALFORMED at the element", () => {
  const without = (k: string): Record<string, unknown> =>
    Object.fromEntries(Object.entries(base).filter(([name]) => name !== k));
  expect(codeOf(null)).toBe("AUDIT_MESSAGE_MALFORMED AuditEvent");
  expect(codeOf([base])).toBe("AUDIT_MESSAGE_MALFORMED AuditEvent");
  expect(codeOf({ ...base, resourceType: "Patient" })).toBe(
    "AUDIT_MESSAGE_MALFORMED AuditEvent.resourceType",
  );
  expect(codeOf(without("type"))).toBe("AUDIT_MESSAGE_MALFORMED AuditEvent.type");
  expect(codeOf(without("recorded"))).toBe("AUDIT_MESSAGE_MALFORMED AuditEvent.recorded");
  expect(codeOf({ ...base, recorded: "2026-02-30T00:00:00Z" })).toBe(
    "AUDIT_MESSAGE_MALFORMED AuditEvent.recorded",
  );
  expect(codeOf({ ...base, outcome: 4 })).toBe("AUDIT_MESSAGE_MALFORMED AuditEvent.outcome");
  expect(codeOf({ ...base, outcome: "3" })).toBe("AUDIT_MESSAGE_MALFORMED AuditEvent.outcome");
  expect(codeOf({ ...base, action: "X" })).toBe("AUDIT_MESSAGE_MALFORMED AuditEvent.action");
  expect(codeOf({ ...base, agent: [] })).toBe("AUDIT_MESSAGE_MALFORMED AuditEvent.agent");
  expect(codeOf({ ...base, agent: [{ requestor: true }] })).toBe(
    "AUDIT_MESSAGE_MALFORMED AuditEvent.agent[0].who",
  );
  expect(codeOf({ ...base, agent: [{ who: { identifier: { value: 7 } } }] })).toBe(
    "AUDIT_MESSAGE_MALFORMED AuditEvent.agent[0].who.identifier.value",
  );
  expect(codeOf({ ...base, agent: [{ altId: "a", requestor: "yes" }] })).toBe(
    "AUDIT_MESSAGE_MALFORMED AuditEvent.agent[0].requestor",
  );
  expect(codeOf({ ...base, agent: Array.from({ length: 33 }, () => base.agent[1]) })).toBe(
    "AUDIT_MESSAGE_MALFORMED AuditEvent.agent",
  );
  expect(codeOf(without("source"))).toBe("AUDIT_MESSAGE_MALFORMED AuditEvent.source");
  expect(codeOf({ ...base, source: { observer: {} } })).toBe(
    "AUDIT_MESSAGE_MALFORMED AuditEvent.source.observer",
  );
  expect(codeOf({ ...base, entity: [{ what: { reference: "Patient/1" } }] })).toBe(
    "AUDIT_MESSAGE_MALFORMED AuditEvent.entity[0].what.identifier",
  );
  expect(codeOf({ ...base, entity: [{ what: { identifier: { value: "x".repeat(2000) } } }] })).toBe(
    "AUDIT_MESSAGE_MALFORMED AuditEvent.entity[0].what.identifier.value",
  );
  // The error never repeats the value it refused (a patient number may be in it).
  try {
    parseFhirAuditEvent({
      ...base,
      entity: [{ what: { identifier: { value: 12345 } }, role: { code: "1" } }],
    });
  } catch (e) {
    expect((e as Error).message).not.toContain("12345");
  }
});
