/**
 * A FHIR R4 AuditEvent (https://hl7.org/fhir/R4/auditevent.html), as IHE RESTful ATNA's Record Audit
 * Event [ITI-20] over FHIR carries it (https://profiles.ihe.net/ITI/RESTful-ATNA), read into the same
 * typed event the syslog path reads from a DICOM PS3.15 A.5 AuditMessage (./audit-message.ts), so
 * both feed one AuditIntake.recordEvent:
 *
 *   type                    → event.id          subtype[]           → event.types
 *   action                  → event.action      recorded            → event.time (UTC, ms)
 *   outcome ("0"|"4"|…)     → event.outcome     purposeOfEvent[]    → event.purposes (codings)
 *   agent[]                 → participants: who.identifier.value (else who.reference, altId),
 *                             requestor, type + role codings, network.address / network.type
 *   source.observer / site  → sources[0]
 *   entity[]                → objects: the patient (role 1 Patient, or a what.reference to a
 *                             Patient, with what.identifier: its value is the Patient ID, the
 *                             identifier's system ignored as the CX assigning authority is), and
 *                             studies (what.identifier system urn:dicom:uid, or an identifier typed
 *                             DCM 110180 Study Instance UID; "urn:oid:" prefix removed)
 *
 * Pure. Like the XML reader, the result still holds raw identifiers; errors name the element that is
 * wrong (a FHIRPath-like location), never its value. Unknown elements and extensions are ignored
 * (FHIR's open model); element types are checked.
 */
import { RadledgerError } from "../../core/errors.js";
import {
  auditTime,
  type AuditEvent,
  type AuditObject,
  type AuditParticipant,
  type Coded,
  type EventAction,
  type EventOutcome,
} from "./audit-message.js";

const MAX_PARTICIPANTS = 32;
const MAX_OBJECTS = 64;
const MAX_CODES = 16;
const MAX_VALUE = 1024;

type Json = Record<string, unknown>;

function malformed(message: string, at: string): never {
  throw new RadledgerError("AUDIT_MESSAGE_MALFORMED", `AuditEvent: ${message}`, { at });
}

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function obj(v: unknown, at: string): Json | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) malformed("expected an object", at);
  return v;
}

function str(v: unknown, at: string, required: true): string;
function str(v: unknown, at: string, required?: false): string | undefined;
function str(v: unknown, at: string, required = false): string | undefined {
  if (v === undefined || (typeof v === "string" && v.trim() === "")) {
    if (required) malformed("is required", at);
    return undefined;
  }
  if (typeof v !== "string") return malformed("expected a string", at);
  if (v.length > MAX_VALUE) malformed(`longer than ${MAX_VALUE} characters`, at);
  return v.trim();
}

function arr(v: unknown, at: string, max: number): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return malformed("expected an array", at);
  if (v.length > max) malformed(`more than ${max} items`, at);
  return v;
}

function coding(v: unknown, at: string): Coded {
  const c = obj(v, at) ?? malformed("is required", at);
  const code = str(c.code, `${at}.code`, true);
  const system = str(c.system, `${at}.system`);
  const display = str(c.display, `${at}.display`);
  return { code, ...(system === undefined ? {} : { system }), ...(display === undefined ? {} : { display }) };
}

function codings(v: unknown, at: string): Coded[] {
  return arr(v, at, MAX_CODES).map((c, i) => coding(c, `${at}[${i}]`));
}

/** The codings of a CodeableConcept (its text alone carries no code and is not kept). */
function concept(v: unknown, at: string): Coded[] {
  const c = obj(v, at);
  return c === undefined ? [] : codings(c.coding, `${at}.coding`);
}

function concepts(v: unknown, at: string): Coded[] {
  const out = arr(v, at, MAX_CODES).flatMap((c, i) => concept(c, `${at}[${i}]`));
  if (out.length > MAX_CODES) malformed(`more than ${MAX_CODES} codings`, at);
  return out;
}

interface Ref {
  readonly reference?: string;
  readonly system?: string;
  readonly value?: string;
  readonly typeCodes: readonly string[];
  readonly display?: string;
}

function reference(v: unknown, at: string): Ref | undefined {
  const r = obj(v, at);
  if (r === undefined) return undefined;
  const id = obj(r.identifier, `${at}.identifier`);
  const reference = str(r.reference, `${at}.reference`);
  const system = id && str(id.system, `${at}.identifier.system`);
  const value = id && str(id.value, `${at}.identifier.value`);
  const typeCodes = id === undefined ? [] : concept(id.type, `${at}.identifier.type`).map((c) => c.code);
  const display = str(r.display, `${at}.display`);
  return {
    ...(reference === undefined ? {} : { reference }),
    ...(system === undefined ? {} : { system }),
    ...(value === undefined ? {} : { value }),
    typeCodes,
    ...(display === undefined ? {} : { display }),
  };
}

const OUTCOMES = new Set(["0", "4", "8", "12"]);

/** The DICOM UID of an identifier value: "urn:oid:1.2.3" or "1.2.3". */
const uidOf = (v: string): string => (v.startsWith("urn:oid:") ? v.slice(8) : v);

/** Reads a parsed JSON value as a FHIR R4 AuditEvent. AUDIT_MESSAGE_MALFORMED when it is not one. */
export function parseFhirAuditEvent(resource: unknown): AuditEvent {
  if (!isObject(resource)) malformed("the resource is not a JSON object", "AuditEvent");
  if (resource.resourceType !== "AuditEvent")
    malformed("resourceType is not AuditEvent", "AuditEvent.resourceType");

  const action = str(resource.action, "AuditEvent.action");
  if (action !== undefined && !/^[CRUDE]$/.test(action))
    malformed("action is not one of C, R, U, D, E", "AuditEvent.action");
  const outcome = str(resource.outcome, "AuditEvent.outcome", true);
  if (!OUTCOMES.has(outcome)) malformed("outcome is not one of 0, 4, 8, 12", "AuditEvent.outcome");
  const event = {
    id: coding(resource.type, "AuditEvent.type"),
    types: codings(resource.subtype, "AuditEvent.subtype"),
    ...(action === undefined ? {} : { action: action as EventAction }),
    // FHIR instant: xs:dateTime with a required offset (R4 §2.24.0.1); the syslog reader's parser.
    time: auditTime(str(resource.recorded, "AuditEvent.recorded", true), "AuditEvent.recorded"),
    outcome: Number(outcome) as EventOutcome,
    purposes: concepts(resource.purposeOfEvent, "AuditEvent.purposeOfEvent"),
  };

  const agents = arr(resource.agent, "AuditEvent.agent", MAX_PARTICIPANTS);
  if (agents.length === 0) malformed("at least one agent is required", "AuditEvent.agent");
  const participants = agents.map((a, i): AuditParticipant => {
    const at = `AuditEvent.agent[${i}]`;
    const agent = obj(a, at)!;
    const who = reference(agent.who, `${at}.who`);
    const altId = str(agent.altId, `${at}.altId`);
    const name = str(agent.name, `${at}.name`);
    const userId =
      who?.value ??
      who?.reference ??
      altId ??
      malformed("who.identifier, who.reference or altId is required", `${at}.who`);
    if (agent.requestor !== undefined && typeof agent.requestor !== "boolean")
      malformed("requestor is not a boolean", `${at}.requestor`);
    const network = obj(agent.network, `${at}.network`);
    const address = network && str(network.address, `${at}.network.address`);
    const napType = network && str(network.type, `${at}.network.type`);
    if (napType !== undefined && !/^[1-5]$/.test(napType))
      malformed("network.type is not one of 1..5", `${at}.network.type`);
    const roles = [...concept(agent.type, `${at}.type`), ...concepts(agent.role, `${at}.role`)];
    if (roles.length > MAX_CODES) malformed(`more than ${MAX_CODES} role codings`, `${at}.role`);
    return {
      userId,
      ...(altId === undefined || altId === userId ? {} : { alternativeUserId: altId }),
      ...(name === undefined ? {} : { userName: name }),
      // R4: requestor is required (1..1); a sender that leaves it out is read as DICOM's default, true.
      requestor: agent.requestor !== false,
      roles,
      ...(address === undefined
        ? {}
        : { networkAccessPoint: { id: address, ...(napType === undefined ? {} : { type: napType }) } }),
    };
  });

  const source = obj(resource.source, "AuditEvent.source") ?? malformed("is required", "AuditEvent.source");
  const observer = reference(source.observer, "AuditEvent.source.observer");
  const sourceId =
    observer?.value ??
    observer?.reference ??
    observer?.display ??
    malformed("observer (identifier, reference or display) is required", "AuditEvent.source.observer");
  const site = str(source.site, "AuditEvent.source.site");
  const sources = [
    {
      id: sourceId,
      ...(site === undefined ? {} : { site }),
      types: codings(source.type, "AuditEvent.source.type"),
    },
  ];

  const objects = arr(resource.entity, "AuditEvent.entity", MAX_OBJECTS).flatMap((e, i): AuditObject[] => {
    const at = `AuditEvent.entity[${i}]`;
    const entity = obj(e, at)!;
    const what = reference(entity.what, `${at}.what`);
    const type = entity.type === undefined ? undefined : coding(entity.type, `${at}.type`);
    const role = entity.role === undefined ? undefined : coding(entity.role, `${at}.role`);
    const numeric = (c: Coded | undefined): number | undefined =>
      c !== undefined && /^[0-9]{1,4}$/.test(c.code) ? Number(c.code) : undefined;
    const typeCode = numeric(type);
    const roleCode = numeric(role);
    const isPatient = roleCode === 1 || (what?.reference?.startsWith("Patient/") ?? false);
    if (isPatient) {
      // The node pseudonymises the Patient ID (as study registration does); a bare reference to a
      // Patient resource of the sender's server names nothing this node can match.
      if (what?.value === undefined)
        malformed("a patient entity needs what.identifier.value (the Patient ID)", `${at}.what.identifier`);
      return [
        {
          id: what.value,
          idType: { code: "2", system: "RFC-3881", display: "Patient Number" },
          typeCode: typeCode ?? 1,
          role: 1,
        },
      ];
    }
    if (what?.value !== undefined && (what.system === "urn:dicom:uid" || what.typeCodes.includes("110180")))
      return [
        {
          id: uidOf(what.value),
          idType: { code: "110180", system: "DCM", display: "Study Instance UID" },
          ...(typeCode === undefined ? {} : { typeCode }),
          ...(roleCode === undefined ? {} : { role: roleCode }),
        },
      ];
    // Other entities (queries, documents, resources) are not kept on the log; the raw resource is.
    return [];
  });

  return { event, participants, sources, objects };
}
