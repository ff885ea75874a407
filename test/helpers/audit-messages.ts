/**
 * DICOM PS3.15 A.5 audit messages as a PACS writes them (IHE ATNA): "Patient Record" / "DICOM
 * Instances Accessed" events with a requesting user, the PACS as audit source, the patient (ID type
 * 2, RFC-3881 Patient Number, as an HL7 CX value) and a study (ID type 110180, DCM, Study Instance
 * UID). Used by the unit, intake and end-to-end tests.
 */
export interface AuditMessageOptions {
  readonly patientId?: string;
  readonly studyUid?: string;
  readonly userId?: string;
  readonly outcome?: string;
  readonly time?: string;
  readonly eventCode?: string;
  /** Leave the patient participant object out. */
  readonly noPatient?: boolean;
}

export function auditMessageXml(o: AuditMessageOptions = {}): string {
  const patient =
    o.noPatient === true
      ? ""
      : `
  <ParticipantObjectIdentification ParticipantObjectID="${o.patientId ?? "PAT-0001"}^^^&amp;1.2.3.4&amp;ISO" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1">
    <ParticipantObjectIDTypeCode csd-code="2" codeSystemName="RFC-3881" originalText="Patient Number"/>
    <ParticipantObjectName>DOE^JANE</ParticipantObjectName>
  </ParticipantObjectIdentification>`;
  const study =
    o.studyUid === undefined
      ? ""
      : `
  <ParticipantObjectIdentification ParticipantObjectID="${o.studyUid}" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3">
    <ParticipantObjectIDTypeCode csd-code="110180" codeSystemName="DCM" originalText="Study Instance UID"/>
    <ParticipantObjectDescription><SOPClass UID="1.2.840.10008.5.1.4.1.1.2" NumberOfInstances="120"/></ParticipantObjectDescription>
  </ParticipantObjectIdentification>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<AuditMessage>
  <EventIdentification EventActionCode="R" EventDateTime="${o.time ?? "2026-12-07T22:15:30.123+01:00"}" EventOutcomeIndicator="${o.outcome ?? "0"}">
    <EventID csd-code="${o.eventCode ?? "110103"}" codeSystemName="DCM" originalText="DICOM Instances Accessed"/>
    <EventTypeCode csd-code="RAD-69" codeSystemName="IHE Transactions" originalText="Retrieve Imaging Document Set"/>
    <PurposeOfUse csd-code="TREAT" codeSystemName="v3-ActReason" originalText="treatment"/>
  </EventIdentification>
  <ActiveParticipant UserID="${o.userId ?? "dr.house"}" UserName="Gregory House" UserIsRequestor="true" NetworkAccessPointID="10.1.2.3" NetworkAccessPointTypeCode="2">
    <RoleIDCode csd-code="110152" codeSystemName="DCM" originalText="Destination Role ID"/>
  </ActiveParticipant>
  <ActiveParticipant UserID="AE_PACS" AlternativeUserID="4711" UserIsRequestor="false" NetworkAccessPointID="pacs.hospital.example" NetworkAccessPointTypeCode="1">
    <RoleIDCode csd-code="110153" codeSystemName="DCM" originalText="Source Role ID"/>
  </ActiveParticipant>
  <AuditSourceIdentification AuditEnterpriseSiteID="Radiology" AuditSourceID="PACS-MAIN">
    <AuditSourceTypeCode csd-code="4" codeSystemName="RFC-3881" originalText="Application Server"/>
  </AuditSourceIdentification>${patient}${study}
</AuditMessage>`;
}

/** An RFC 5424 syslog message carrying the audit message (as IHE ATNA and `logger --rfc5424` send it). */
export function syslogMessage(xml: string, host = "pacs.hospital.example"): string {
  return `<85>1 2026-12-07T21:15:30.123Z ${host} PACS 4242 IHE+RFC-3881 - ${xml}`;
}
