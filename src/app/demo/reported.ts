/**
 * A reported access in the demo (issue 21 §2, docs/audit.md "Reported accesses"): the demo PACS, a
 * system actor, reports over syslog TLS (RFC 5425) that a radiologist retrieved patient A's MR
 * directly from it — an IHE ATNA audit message (DICOM PS3.15 A.5) that the audit intake turns into
 * an access.reported entry signed by the PACS. The patient's "Who looked at my record" shows it,
 * labelled as reported. Seeded last, so every earlier entry of the demo keeps its place in the log.
 */
import { AuditIntake } from "../audit-intake.js";
import type { DemoContext } from "./context.js";

/** Study 1 of the demo (context.ts studyBody: patient A's MR of the head). */
const STUDY_UID = "1.2.826.0.1.3680043.10.999.1";

export async function seedReportedAccess(d: DemoContext): Promise<void> {
  await d.enrol("pacs-demo", { kind: "system", roles: ["integration"], displayName: "Demo PACS" });
  const time = new Date(Date.now() - 60_000).toISOString();
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<AuditMessage>
  <EventIdentification EventActionCode="R" EventDateTime="${time}" EventOutcomeIndicator="0">
    <EventID csd-code="110103" codeSystemName="DCM" originalText="DICOM Instances Accessed"/>
    <EventTypeCode csd-code="RAD-69" codeSystemName="IHE Transactions" originalText="Retrieve Imaging Document Set"/>
    <PurposeOfUse csd-code="TREAT" codeSystemName="v3-ActReason" originalText="treatment"/>
  </EventIdentification>
  <ActiveParticipant UserID="dr.neuro" UserIsRequestor="true" NetworkAccessPointID="10.1.2.3" NetworkAccessPointTypeCode="2">
    <RoleIDCode csd-code="110152" codeSystemName="DCM" originalText="Destination Role ID"/>
  </ActiveParticipant>
  <ActiveParticipant UserID="AE_DEMO_PACS" UserIsRequestor="false" NetworkAccessPointID="pacs.demo.example" NetworkAccessPointTypeCode="1">
    <RoleIDCode csd-code="110153" codeSystemName="DCM" originalText="Source Role ID"/>
  </ActiveParticipant>
  <AuditSourceIdentification AuditEnterpriseSiteID="Radiology" AuditSourceID="DEMO-PACS"/>
  <ParticipantObjectIdentification ParticipantObjectID="DEMO-MRN-0001" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1">
    <ParticipantObjectIDTypeCode csd-code="2" codeSystemName="RFC-3881" originalText="Patient Number"/>
  </ParticipantObjectIdentification>
  <ParticipantObjectIdentification ParticipantObjectID="${STUDY_UID}" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3">
    <ParticipantObjectIDTypeCode csd-code="110180" codeSystemName="DCM" originalText="Study Instance UID"/>
  </ParticipantObjectIdentification>
</AuditMessage>`;
  const raw = `<85>1 ${time} pacs.demo.example PACS 4242 IHE+RFC-3881 - ${xml}`;
  // The demo has no TLS peer: the message is handed to the intake as the TLS receiver would, for
  // the system actor its certificate is bound to.
  await new AuditIntake(d.node, { rawMessages: "vault" }).receive(
    "pacs-demo",
    { transport: "syslog-tls", address: "10.0.0.9" },
    xml,
    raw,
  );
}
