/** DICOM PS3.15 A.5 audit messages read into events (src/domain/access/audit-message.ts). */
import { describe, expect, test } from "vitest";
import { isRadledgerError } from "../../core/errors.js";
import { auditMessageXml } from "../../../test/helpers/audit-messages.js";
import {
  auditTime,
  isPatientObject,
  isStudyObject,
  parseAuditMessage,
  patientIdOf,
} from "./audit-message.js";

function refusal(xml: string): { code: string; at: unknown; message: string } {
  try {
    parseAuditMessage(xml);
  } catch (e) {
    if (isRadledgerError(e)) return { code: e.code, at: e.details.at, message: e.message };
    throw e;
  }
  throw new Error("accepted");
}

test("a PACS's DICOM Instances Accessed message: event, participants, source, patient and study", () => {
  const m = parseAuditMessage(auditMessageXml({ studyUid: "1.2.826.0.1.3680043.8.498.1" }));
  expect(m.event).toEqual({
    id: { code: "110103", system: "DCM", display: "DICOM Instances Accessed" },
    types: [{ code: "RAD-69", system: "IHE Transactions", display: "Retrieve Imaging Document Set" }],
    action: "R",
    time: "2026-12-07T21:15:30.123Z",
    outcome: 0,
    purposes: [{ code: "TREAT", system: "v3-ActReason", display: "treatment" }],
  });
  expect(m.participants).toEqual([
    {
      userId: "dr.house",
      userName: "Gregory House",
      requestor: true,
      roles: [{ code: "110152", system: "DCM", display: "Destination Role ID" }],
      networkAccessPoint: { id: "10.1.2.3", type: "2" },
    },
    {
      userId: "AE_PACS",
      alternativeUserId: "4711",
      requestor: false,
      roles: [{ code: "110153", system: "DCM", display: "Source Role ID" }],
      networkAccessPoint: { id: "pacs.hospital.example", type: "1" },
    },
  ]);
  expect(m.sources).toEqual([
    {
      id: "PACS-MAIN",
      site: "Radiology",
      types: [{ code: "4", system: "RFC-3881", display: "Application Server" }],
    },
  ]);
  const [patient, study] = m.objects;
  expect(isPatientObject(patient!) && !isStudyObject(patient!)).toBe(true);
  expect(patientIdOf(patient!)).toBe("PAT-0001");
  expect(isStudyObject(study!) && !isPatientObject(study!)).toBe(true);
  expect(study!.id).toBe("1.2.826.0.1.3680043.8.498.1");
});

test("RFC 3881 spelling of coded values (code, displayName) is read as well", () => {
  const xml = auditMessageXml()
    .replace('csd-code="110103"', 'code="110103"')
    .replace('originalText="DICOM Instances Accessed"', 'displayName="DICOM Instances Accessed"');
  expect(parseAuditMessage(xml).event.id).toEqual({
    code: "110103",
    system: "DCM",
    display: "DICOM Instances Accessed",
  });
});

describe("EventDateTime (xs:dateTime) to RFC 3339 UTC", () => {
  test.each([
    ["2026-12-07T22:15:30+01:00", "2026-12-07T21:15:30.000Z"],
    ["2026-12-07T21:15:30.5Z", "2026-12-07T21:15:30.500Z"],
    ["2026-12-07T21:15:30.123456-05:30", "2026-12-08T02:45:30.123Z"],
    ["2026-12-07T21:15:30", "2026-12-07T21:15:30.000Z"],
  ])("%s", (given, want) => expect(auditTime(given, "t")).toBe(want));
  test.each(["2026-02-30T00:00:00Z", "2026-12-07 21:15:30Z", "2026-12-07T24:00:00Z", "yesterday"])(
    "refuses %s",
    (given) => expect(() => auditTime(given, "t")).toThrow(/EventDateTime/),
  );
});

test.each([
  ["another root element", "<Audit/>", "Audit"],
  ["no EventIdentification", "<AuditMessage/>", "EventIdentification"],
  [
    "an outcome outside 0, 4, 8, 12",
    auditMessageXml({ outcome: "3" }),
    "EventIdentification/@EventOutcomeIndicator",
  ],
  [
    "no EventDateTime",
    auditMessageXml().replace(/EventDateTime="[^"]*"/, ""),
    "EventIdentification/@EventDateTime",
  ],
  ["no EventID", auditMessageXml().replace(/<EventID [^>]*\/>/, ""), "EventIdentification/EventID"],
  [
    "an ActiveParticipant without UserID",
    auditMessageXml().replace('UserID="dr.house"', ""),
    "ActiveParticipant[0]/@UserID",
  ],
  [
    "no AuditSourceIdentification",
    auditMessageXml().replace(/<AuditSourceIdentification[\s\S]*?<\/AuditSourceIdentification>/, ""),
    "AuditSourceIdentification",
  ],
  [
    "a participant object without an ID type",
    auditMessageXml().replace(/<ParticipantObjectIDTypeCode csd-code="2"[^>]*\/>/, ""),
    "ParticipantObjectIdentification[0]/ParticipantObjectIDTypeCode",
  ],
  ["not XML", "<AuditMessage><EventIdentification>", "offset 35"],
  ["a DOCTYPE", '<!DOCTYPE AuditMessage SYSTEM "file:///etc/passwd"><AuditMessage/>', "offset 0"],
])("refuses %s as AUDIT_MESSAGE_MALFORMED at the element, never quoting values", (_what, xml, at) => {
  const r = refusal(xml);
  expect(r.code).toBe("AUDIT_MESSAGE_MALFORMED");
  expect(r.at).toBe(at);
  expect(r.message).not.toMatch(/PAT-0001|dr\.house|House/);
});
