/**
 * The DICOM audit message (PS3.15 Annex A.5, the XML schema IHE ATNA's Record Audit Event [ITI-20]
 * carries over syslog) read into a typed event: what happened (EventIdentification: EventID,
 * EventTypeCode, EventActionCode, EventDateTime, EventOutcomeIndicator, PurposeOfUse), who took part
 * (ActiveParticipant: UserID, UserIsRequestor, RoleIDCode, NetworkAccessPointID and its type), which
 * system reports it (AuditSourceIdentification) and what it was about
 * (ParticipantObjectIdentification: ParticipantObjectID with its ParticipantObjectIDTypeCode,
 * ParticipantObjectTypeCode and ParticipantObjectTypeCodeRole).
 *
 * Pure. The parsed event still holds the raw identifiers (patient number, Study Instance UID): it
 * never leaves the node as it is; src/app/audit-intake.ts pseudonymises it before anything is
 * signed. Errors therefore name the element or attribute that is wrong, never its value.
 *
 * Coded values are read in both spellings found in the field: DICOM's `csd-code` / `codeSystemName`
 * / `originalText` and RFC 3881's `code` / `codeSystemName` / `displayName`.
 */
import { formatTime } from "../../core/entry.js";
import { RadledgerError } from "../../core/errors.js";
import { childNamed, childrenNamed, parseXml, type XmlElement } from "../../core/xml.js";

export interface Coded {
  readonly code: string;
  readonly system?: string;
  readonly display?: string;
}

/** EventActionCode (PS3.15 A.5.1): Create, Read, Update, Delete, Execute. */
export type EventAction = "C" | "R" | "U" | "D" | "E";
/** EventOutcomeIndicator: success, minor failure, serious failure, major failure. */
export type EventOutcome = 0 | 4 | 8 | 12;

export interface AuditParticipant {
  readonly userId: string;
  readonly alternativeUserId?: string;
  readonly userName?: string;
  readonly requestor: boolean;
  readonly roles: readonly Coded[];
  readonly networkAccessPoint?: { readonly id: string; readonly type?: string };
}

export interface AuditSource {
  readonly id: string;
  readonly site?: string;
  readonly types: readonly Coded[];
}

export interface AuditObject {
  readonly id: string;
  /** ParticipantObjectIDTypeCode: e.g. (2, RFC-3881, Patient Number), (110180, DCM, Study Instance UID). */
  readonly idType: Coded;
  /** ParticipantObjectTypeCode: 1 person, 2 system object, 3 organization, 4 other. */
  readonly typeCode?: number;
  /** ParticipantObjectTypeCodeRole: 1 patient, 3 report, 24 query, … */
  readonly role?: number;
}

export interface AuditEvent {
  readonly event: {
    readonly id: Coded;
    readonly types: readonly Coded[];
    readonly action?: EventAction;
    /** EventDateTime as RFC 3339 UTC with milliseconds (a time without offset is read as UTC). */
    readonly time: string;
    readonly outcome: EventOutcome;
    readonly purposes: readonly Coded[];
  };
  readonly participants: readonly AuditParticipant[];
  readonly sources: readonly AuditSource[];
  readonly objects: readonly AuditObject[];
}

/** Bounds: an audit message is machine-written and small; anything larger is not one. */
const MAX_PARTICIPANTS = 32;
const MAX_OBJECTS = 64;
const MAX_CODES = 16;
const MAX_VALUE = 1024;

function malformed(message: string, at: string): never {
  throw new RadledgerError("AUDIT_MESSAGE_MALFORMED", `audit message: ${message}`, { at });
}

function attr(el: XmlElement, name: string, at: string, required: true): string;
function attr(el: XmlElement, name: string, at: string, required?: false): string | undefined;
function attr(el: XmlElement, name: string, at: string, required = false): string | undefined {
  const v = el.attributes.get(name);
  if (v === undefined || v.trim() === "") {
    if (required) malformed(`${name} is required`, `${at}/@${name}`);
    return undefined;
  }
  if (v.length > MAX_VALUE) malformed(`${name} is longer than ${MAX_VALUE} characters`, `${at}/@${name}`);
  return v.trim();
}

function coded(el: XmlElement, at: string): Coded {
  const code = attr(el, "csd-code", at) ?? attr(el, "code", at);
  if (code === undefined) return malformed("a coded value needs csd-code (or code)", `${at}/@csd-code`);
  const system = attr(el, "codeSystemName", at) ?? attr(el, "codeSystem", at);
  const display = attr(el, "originalText", at) ?? attr(el, "displayName", at);
  return { code, ...(system === undefined ? {} : { system }), ...(display === undefined ? {} : { display }) };
}

function codes(parent: XmlElement, local: string, at: string): Coded[] {
  const all = childrenNamed(parent, local);
  if (all.length > MAX_CODES) malformed(`more than ${MAX_CODES} ${local}`, `${at}/${local}`);
  return all.map((c, i) => coded(c, `${at}/${local}[${i}]`));
}

function int(v: string | undefined, at: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,4}$/.test(v)) malformed("expected a small integer", at);
  return Number(v);
}

/** xs:dateTime (PS3.15 A.5.1 EventDateTime) to RFC 3339 UTC with milliseconds. */
export function auditTime(v: string, at: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/.exec(v);
  if (!m) return malformed("EventDateTime is not an xs:dateTime", at);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, Math.floor(Number(`0${frac ?? ".0"}`) * 1000));
  const check = new Date(ms);
  if (
    Number.isNaN(ms) ||
    check.getUTCDate() !== +d! ||
    check.getUTCMonth() !== +mo! - 1 ||
    +h! > 23 ||
    +mi! > 59 ||
    +s! > 59
  )
    malformed("EventDateTime is not a valid date and time", at);
  let offset = 0;
  if (zone !== undefined && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  const utc = ms - offset;
  if (utc < Date.UTC(1970, 0, 1) || utc > Date.UTC(9999, 11, 31))
    malformed("EventDateTime is out of range", at);
  return formatTime(utc);
}

/** Parses an audit message document (UTF-8 text). AUDIT_MESSAGE_MALFORMED when it is not one. */
export function parseAuditMessage(xml: string): AuditEvent {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    if (e instanceof RadledgerError && e.code === "INPUT_INVALID")
      throw new RadledgerError("AUDIT_MESSAGE_MALFORMED", `audit message: ${e.message}`, e.details);
    throw e;
  }
  if (root.local !== "AuditMessage") malformed("the root element is not AuditMessage", root.name);

  const idents = childrenNamed(root, "EventIdentification");
  if (idents.length !== 1) malformed("exactly one EventIdentification is required", "EventIdentification");
  const ident = idents[0]!;
  const at = "EventIdentification";
  const eventIdEl = childNamed(ident, "EventID") ?? malformed("EventID is required", `${at}/EventID`);
  const action = attr(ident, "EventActionCode", at);
  if (action !== undefined && !/^[CRUDE]$/.test(action))
    malformed("EventActionCode is not one of C, R, U, D, E", `${at}/@EventActionCode`);
  const outcome = attr(ident, "EventOutcomeIndicator", at, true);
  if (!/^(0|4|8|12)$/.test(outcome))
    malformed("EventOutcomeIndicator is not one of 0, 4, 8, 12", `${at}/@EventOutcomeIndicator`);
  const event = {
    id: coded(eventIdEl, `${at}/EventID`),
    types: codes(ident, "EventTypeCode", at),
    ...(action === undefined ? {} : { action: action as EventAction }),
    time: auditTime(attr(ident, "EventDateTime", at, true), `${at}/@EventDateTime`),
    outcome: Number(outcome) as EventOutcome,
    purposes: codes(ident, "PurposeOfUse", at),
  };

  const partEls = childrenNamed(root, "ActiveParticipant");
  if (partEls.length === 0) malformed("at least one ActiveParticipant is required", "ActiveParticipant");
  if (partEls.length > MAX_PARTICIPANTS)
    malformed(`more than ${MAX_PARTICIPANTS} ActiveParticipant`, "ActiveParticipant");
  const participants = partEls.map((p, i): AuditParticipant => {
    const pat = `ActiveParticipant[${i}]`;
    const requestor = attr(p, "UserIsRequestor", pat);
    if (requestor !== undefined && !/^(true|false|1|0)$/.test(requestor))
      malformed("UserIsRequestor is not a boolean", `${pat}/@UserIsRequestor`);
    const alt = attr(p, "AlternativeUserID", pat);
    const name = attr(p, "UserName", pat);
    const nap = attr(p, "NetworkAccessPointID", pat);
    const napType = attr(p, "NetworkAccessPointTypeCode", pat);
    return {
      userId: attr(p, "UserID", pat, true),
      ...(alt === undefined ? {} : { alternativeUserId: alt }),
      ...(name === undefined ? {} : { userName: name }),
      // xs:boolean; the schema's default is true.
      requestor: requestor === undefined || requestor === "true" || requestor === "1",
      roles: codes(p, "RoleIDCode", pat),
      ...(nap === undefined
        ? {}
        : { networkAccessPoint: { id: nap, ...(napType === undefined ? {} : { type: napType }) } }),
    };
  });

  const sourceEls = childrenNamed(root, "AuditSourceIdentification");
  if (sourceEls.length === 0) malformed("AuditSourceIdentification is required", "AuditSourceIdentification");
  if (sourceEls.length > MAX_CODES)
    malformed(`more than ${MAX_CODES} AuditSourceIdentification`, "AuditSourceIdentification");
  const sources = sourceEls.map((s, i): AuditSource => {
    const sat = `AuditSourceIdentification[${i}]`;
    const site = attr(s, "AuditEnterpriseSiteID", sat);
    return {
      id: attr(s, "AuditSourceID", sat, true),
      ...(site === undefined ? {} : { site }),
      types: codes(s, "AuditSourceTypeCode", sat),
    };
  });

  const objEls = childrenNamed(root, "ParticipantObjectIdentification");
  if (objEls.length > MAX_OBJECTS)
    malformed(`more than ${MAX_OBJECTS} ParticipantObjectIdentification`, "ParticipantObjectIdentification");
  const objects = objEls.map((o, i): AuditObject => {
    const oat = `ParticipantObjectIdentification[${i}]`;
    const idTypeEl =
      childNamed(o, "ParticipantObjectIDTypeCode") ??
      malformed("ParticipantObjectIDTypeCode is required", `${oat}/ParticipantObjectIDTypeCode`);
    const typeCode = int(attr(o, "ParticipantObjectTypeCode", oat), `${oat}/@ParticipantObjectTypeCode`);
    const role = int(attr(o, "ParticipantObjectTypeCodeRole", oat), `${oat}/@ParticipantObjectTypeCodeRole`);
    return {
      id: attr(o, "ParticipantObjectID", oat, true),
      idType: coded(idTypeEl, `${oat}/ParticipantObjectIDTypeCode`),
      ...(typeCode === undefined ? {} : { typeCode }),
      ...(role === undefined ? {} : { role }),
    };
  });

  return { event, participants, sources, objects };
}

/**
 * Whether a participant object is the patient: ID type (2, RFC-3881, "Patient Number") as DICOM
 * A.5.2 and the IHE ATNA profiles send it, or a person (type code 1) in the patient role (role 1).
 */
export function isPatientObject(o: AuditObject): boolean {
  return o.idType.code === "2" || (o.typeCode === 1 && o.role === 1);
}

/** Whether a participant object is a study: ID type (110180, DCM, "Study Instance UID"). */
export function isStudyObject(o: AuditObject): boolean {
  return o.idType.code === "110180";
}

/**
 * The patient identifier of a patient participant object: the ID component of an HL7 v2 CX value
 * ("12345^^^&1.2.3&ISO" → "12345"), as IHE profiles send it. The assigning authority is not part of
 * it: study registration pseudonymises Patient ID (0010,0020) alone, and the two must meet.
 */
export function patientIdOf(o: AuditObject): string {
  return o.id.split("^")[0]!.trim();
}

/** A Study Instance UID as DICOM writes it (PS3.5 §9.1: digits and dots, at most 64 characters). */
export function isUid(v: string): boolean {
  return /^[0-9]+(\.[0-9]+)*$/.test(v) && v.length <= 64;
}
