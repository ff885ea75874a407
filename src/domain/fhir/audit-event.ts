/**
 * AuditEvents from the access projection, following IHE Basic Audit Log Patterns (BALP 1.1.x,
 * https://profiles.ihe.net/ITI/BALP; the element rules below are those of the IG's FSH sources,
 * github.com/IHE/ITI.BasicAudit input/fsh/PatientRead.fsh, PatientQuery.fsh, AuthZ.fsh):
 *
 *   - a permitted read of one part of a patient's record      → IHE.BasicAudit.PatientRead
 *   - a permitted read of the record as a whole (the patient-scoped queries: its index of studies,
 *     reports, grants, care and access history; part "record") → IHE.BasicAudit.PatientQuery
 *   - a denied access: the same shape with outcome 4 and no profile claimed — both profiles fix
 *     outcome to 0 ("failures are recorded differently", PatientRead.fsh)
 *   - the consent decision behind an access (permit on a grant, or deny with the patient's grants
 *     on file) → IHE.BasicAudit.AuthZconsent, entity[consent] the Consent(s)
 *
 * The access entry carries the transaction it was decided in (body.transaction, set by the node's
 * API): the request id (entity[transaction]) and, for staff and system actors, the client's network
 * address (agent[client].network). A patient's address is never recorded, and accesses recorded
 * before the field existed or outside a request have neither: then `agent[client].network` carries
 * the data-absent-reason "unknown", and entity[transaction] is present only when a caller passes it
 * in `request`.
 */
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding, Extension } from "fhir/r4.js";
import { toBase64, utf8 } from "../../core/bytes.js";
import type { AccessDoc } from "../access/state.js";
import { BALP, SYSTEMS, actorRef, byIdentifier, instant, patientRef } from "./common.js";

/** Transport facts known only to the API answering a request (never on the log). */
export interface AuditRequest {
  /** X-Request-Id of the request (BALP entity[transaction]). */
  readonly id?: string;
  /** The client's network address (BALP agent[client].network). */
  readonly address?: string;
}

const absent: Extension = { url: SYSTEMS.dataAbsentReason, valueCode: "unknown" };

/** What the caller knows of the request, else what the access entry recorded. */
const withTransaction = (a: AccessDoc, request: AuditRequest): AuditRequest => {
  const id = request.id ?? a.transaction?.request;
  const address = request.address ?? a.transaction?.address;
  return { ...(id === undefined ? {} : { id }), ...(address === undefined ? {} : { address }) };
};

/** IP address (network-type 2) when known, else present-but-unknown (the profile's 1..1). */
const clientNetwork = (address?: string): AuditEventAgent["network"] =>
  address === undefined ? { extension: [absent] } : { address, type: "2" };
/** The node is known by its origin, a machine name (network-type 1). */
const serverNetwork = (origin: string): AuditEventAgent["network"] => ({ address: origin, type: "1" });

function purposesOf(a: AccessDoc): Coding[] {
  const purposes: Coding[] = [{ system: SYSTEMS.actReason, code: a.purpose }];
  if (a.basis?.kind === "break-glass")
    purposes.push({ system: SYSTEMS.actReason, code: "BTG", display: "break the glass" });
  return purposes;
}

function outcomeDesc(a: AccessDoc): string {
  if (a.decision === "deny") return `deny: ${a.reason ?? "?"}`;
  const b = a.basis;
  if (b?.kind !== "break-glass") return `permit: ${b?.kind ?? "?"}`;
  const review = a.review?.open === false ? (a.review.outcome ?? "closed") : "open";
  return `permit: break-glass (${b.reason ?? ""}; review ${review})`;
}

/** The accessed part (BALP entity[data]); the whole record is the patient's own data. */
function dataEntity(a: AccessDoc): AuditEventEntity {
  const p = a.part;
  const what =
    p.kind === "record"
      ? patientRef(a.patient)
      : byIdentifier(
          p.kind === "study"
            ? SYSTEMS.study
            : p.kind === "series"
              ? SYSTEMS.series
              : p.kind === "instance"
                ? SYSTEMS.instance
                : p.kind === "dataset"
                  ? SYSTEMS.dataset
                  : SYSTEMS.report,
          p.id,
        );
  return {
    what,
    type: { system: SYSTEMS.auditEntityType, code: "2", display: "System Object" },
    role: { system: SYSTEMS.objectRole, code: "4", display: "Domain Resource" },
    description: p.kind,
  };
}

/** BALP Query entity[query]: no `what`, the request base64 in `query` (PatientQuery.fsh). */
function queryEntity(a: AccessDoc): AuditEventEntity {
  const q = `patient=${a.patient}&action=${a.action}`;
  return {
    type: { system: SYSTEMS.auditEntityType, code: "2", display: "System Object" },
    role: { system: SYSTEMS.objectRole, code: "24", display: "Query" },
    description: `record of patient ${a.patient} (${a.action})`,
    query: toBase64(utf8(q)),
  };
}

const patientEntity = (patient: string): AuditEventEntity => ({
  what: patientRef(patient),
  type: { system: SYSTEMS.auditEntityType, code: "1", display: "Person" },
  role: { system: SYSTEMS.objectRole, code: "1", display: "Patient" },
});

const transactionEntity = (id: string): AuditEventEntity => ({
  what: { identifier: { value: id } },
  type: { system: BALP.entityType, code: "XrequestId", display: "X-Request-Id" },
});

const DCM = (code: string, display: string): { coding: Coding[] } => ({
  coding: [{ system: SYSTEMS.dcm, code, display }],
});

/**
 * One gatekeeper decision as a BALP PatientRead (a part) or PatientQuery (the record as a whole).
 * Agents: client (the accessing actor's client, network unknown unless given), server (the node,
 * by its origin), user (the actor, requestor, purposeOfUse); Read puts the client as DCM 110152
 * Destination and the server as 110153 Source, Query the other way round (as the IG's FSH does).
 */
export function auditEventOf(
  a: AccessDoc,
  origin: string,
  actorName?: string,
  request: AuditRequest = {},
): AuditEvent {
  const req = withTransaction(a, request);
  const purposes = purposesOf(a);
  const query = a.part.kind === "record";
  const permit = a.decision === "permit";
  const profile = query ? BALP.patientQuery : BALP.patientRead;
  return {
    resourceType: "AuditEvent",
    id: a.id,
    ...(permit ? { meta: { profile: [profile] } } : {}),
    type: { system: SYSTEMS.auditEventType, code: "rest", display: "RESTful Operation" },
    subtype: [
      query
        ? { system: SYSTEMS.restfulInteraction, code: "search-type", display: "search type" }
        : { system: SYSTEMS.restfulInteraction, code: "read", display: "read" },
    ],
    action: query ? "E" : "R",
    recorded: instant(a.time),
    outcome: permit ? "0" : "4",
    outcomeDesc: outcomeDesc(a),
    purposeOfEvent: [{ coding: purposes }],
    agent: [
      {
        type: query ? DCM("110153", "Source Role ID") : DCM("110152", "Destination Role ID"),
        who: actorRef(a.actor, actorName),
        requestor: false,
        network: clientNetwork(req.address),
      },
      {
        type: query ? DCM("110152", "Destination Role ID") : DCM("110153", "Source Role ID"),
        who: byIdentifier(SYSTEMS.institution, origin),
        requestor: false,
        network: serverNetwork(origin),
      },
      {
        type: {
          coding: [{ system: SYSTEMS.participationType, code: "IRCP", display: "information recipient" }],
        },
        who: actorRef(a.actor, actorName),
        ...(actorName === undefined ? {} : { name: actorName }),
        requestor: true,
        purposeOfUse: [{ coding: purposes }],
      },
    ],
    source: {
      observer: byIdentifier(SYSTEMS.institution, origin, "radledger gatekeeper"),
      type: [{ system: SYSTEMS.securitySourceType, code: "4", display: "Application Server" }],
    },
    entity: [
      patientEntity(a.patient),
      query ? queryEntity(a) : dataEntity(a),
      ...(req.id === undefined ? [] : [transactionEntity(req.id)]),
    ],
  };
}

/** FHIR id of the AuthZconsent event of an access (ids are at most 64 characters). */
export const authzEventId = (accessId: string): string => `authz-${accessId.slice(0, 58)}`;

/**
 * The consent decision behind an access as BALP AuthZconsent (AuthZ.fsh): type DCM 110113 Security
 * Alert, subtype AuthZ-Consent, action E, outcome 0 for a permit and 4 for a deny; agents client
 * (DCM 110150 Application), user (IRCP, requestor), userorg (v3 RoleClass PROV: the node's
 * institution, where the actor is enrolled) and authorizer (the node's gatekeeper, authserver);
 * entities (closed slicing) the patient and the Consent(s) decided on — only these two kinds.
 */
export function authzConsentEventOf(
  a: AccessDoc,
  origin: string,
  consents: readonly string[],
  actorName?: string,
  request: AuditRequest = {},
): AuditEvent {
  const req = withTransaction(a, request);
  const purposes = purposesOf(a);
  const node = byIdentifier(SYSTEMS.institution, origin, "radledger gatekeeper");
  return {
    resourceType: "AuditEvent",
    id: authzEventId(a.id),
    meta: { profile: [BALP.authZconsent] },
    type: { system: SYSTEMS.dcm, code: "110113", display: "Security Alert" },
    subtype: [
      {
        system: BALP.authZsubType,
        code: "AuthZ-Consent",
        display: "Authorization Decision using Roles and Consent",
      },
    ],
    action: "E",
    recorded: instant(a.time),
    outcome: a.decision === "permit" ? "0" : "4",
    outcomeDesc: outcomeDesc(a),
    purposeOfEvent: [{ coding: purposes }],
    agent: [
      {
        type: DCM("110150", "Application"),
        who: actorRef(a.actor, actorName),
        requestor: false,
        network: clientNetwork(req.address),
      },
      {
        type: {
          coding: [{ system: SYSTEMS.participationType, code: "IRCP", display: "information recipient" }],
        },
        who: actorRef(a.actor, actorName),
        ...(actorName === undefined ? {} : { name: actorName }),
        requestor: true,
        purposeOfUse: [{ coding: purposes }],
      },
      {
        type: { coding: [{ system: SYSTEMS.roleClass, code: "PROV", display: "healthcare provider" }] },
        who: byIdentifier(SYSTEMS.institution, origin),
        requestor: false,
      },
      {
        type: {
          coding: [
            { system: SYSTEMS.extraSecurityRole, code: "authserver", display: "authorization server" },
          ],
        },
        who: node,
        requestor: false,
      },
    ],
    source: {
      observer: node,
      type: [{ system: SYSTEMS.securitySourceType, code: "6", display: "Security Server" }],
    },
    entity: [
      patientEntity(a.patient),
      ...consents.map((c): AuditEventEntity => ({
        what: { reference: `Consent/${c}` },
        type: { system: SYSTEMS.resourceTypes, code: "Consent", display: "Consent" },
      })),
    ],
  };
}
