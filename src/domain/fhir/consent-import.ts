/**
 * A patient portal's IHE PCF Consent (docs/fhir.md "Importing a Consent") as the body of the
 * consent.granted entry the patient signs. Strict: every element is either mapped or refused with
 * FHIR_CONSENT_UNSUPPORTED naming it in `at` — an element the ledger cannot keep is never silently
 * dropped, since the patient would believe they had agreed to (or restricted) something the grant
 * does not say. What PCF allows but a radledger grant cannot express (a deny provision, nested
 * provisions, security labels, several grantees) is therefore refused, not approximated.
 *
 * The inverse of consentOf (./consent.ts): export → import gives the same grant.
 */
import { RadledgerError } from "../../core/errors.js";
import type { JsonObject } from "../../core/canonical-json.js";
import { PURPOSES_OF_USE, SCOPE_KINDS, STUDY_SCOPES, type ScopeKind } from "../consent/entries.js";
import { SYSTEMS } from "./common.js";
import { SCOPE_EXTENSION } from "./consent.js";

export interface ImportedGrant {
  /** The patient the Consent names (its pseudonym). */
  readonly patient: string;
  /** The consent.granted body to sign. */
  readonly body: JsonObject;
  /** The consent.granted refs (the study of a study scope). */
  readonly refs: { study?: string };
}

type Obj = Record<string, unknown>;

const unsupported = (at: string, why: string): RadledgerError =>
  new RadledgerError("FHIR_CONSENT_UNSUPPORTED", `${at}: ${why}`, { at });

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function only(o: Obj, at: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw unsupported(at === "" ? k : `${at}.${k}`, "not supported by a radledger grant");
}

function obj(v: unknown, at: string): Obj {
  if (!isObj(v)) throw unsupported(at, "must be an object");
  return v;
}

function arr(v: unknown, at: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > max)
    throw unsupported(at, `must be an array of ${min}..${max}`);
  return v;
}

function str(v: unknown, at: string): string {
  if (typeof v !== "string" || v.length === 0 || v.length > 256) throw unsupported(at, "must be a string");
  return v;
}

function codings(v: unknown, at: string): Obj[] {
  const c = obj(v, at);
  only(c, at, ["coding", "text"]);
  return arr(c.coding, `${at}.coding`, 1, 8).map((x, i) => obj(x, `${at}.coding[${i}]`));
}

const has = (cs: Obj[], system: string, code: string): boolean =>
  cs.some((c) => c.system === system && c.code === code);

/** A reference by identifier (the only kind the ledger's export writes and can resolve). */
function identifierOf(v: unknown, at: string): { system: string; value: string } {
  const r = obj(v, at);
  only(r, at, ["identifier", "display"]);
  const id = obj(r.identifier, `${at}.identifier`);
  only(id, `${at}.identifier`, ["system", "value"]);
  return {
    system: str(id.system, `${at}.identifier.system`),
    value: str(id.value, `${at}.identifier.value`),
  };
}

const GRANTEE_KINDS: Record<string, string> = {
  [SYSTEMS.actor]: "actor",
  [SYSTEMS.institution]: "institution",
  [SYSTEMS.trial]: "trial",
  [SYSTEMS.dataset]: "dataset",
};

function grantee(v: unknown): JsonObject {
  const actors = arr(v, "provision.actor", 1, 1);
  const a = obj(actors[0], "provision.actor[0]");
  only(a, "provision.actor[0]", ["role", "reference"]);
  if (!has(codings(a.role, "provision.actor[0].role"), SYSTEMS.participationType, "IRCP"))
    throw unsupported("provision.actor[0].role", "must be v3-ParticipationType IRCP (PCF)");
  const ref = identifierOf(a.reference, "provision.actor[0].reference");
  const kind = GRANTEE_KINDS[ref.system];
  if (kind === undefined)
    throw unsupported(
      "provision.actor[0].reference.identifier.system",
      "must name an actor, institution, trial or dataset",
    );
  return { kind, id: ref.value };
}

function purposes(v: unknown): string[] {
  const out = arr(v, "provision.purpose", 1, 17).map((p, i) => {
    const at = `provision.purpose[${i}]`;
    const c = obj(p, at);
    only(c, at, ["system", "code", "display"]);
    if (c.system !== SYSTEMS.actReason || !(PURPOSES_OF_USE as readonly unknown[]).includes(c.code))
      throw unsupported(at, "must be an HL7 v3 ActReason purpose of use the ledger knows");
    return c.code as string;
  });
  if (new Set(out).size !== out.length) throw unsupported("provision.purpose", "purposes must be unique");
  return out;
}

function scopeKind(v: unknown, hasData: boolean): ScopeKind {
  if (v === undefined) return hasData ? "study" : "all-imaging";
  const exts = arr(v, "provision.extension", 1, 1);
  const e = obj(exts[0], "provision.extension[0]");
  only(e, "provision.extension[0]", ["url", "valueCode"]);
  if (e.url !== SCOPE_EXTENSION) throw unsupported("provision.extension[0].url", "unknown extension");
  if (!(SCOPE_KINDS as readonly unknown[]).includes(e.valueCode))
    throw unsupported("provision.extension[0].valueCode", `must be one of ${SCOPE_KINDS.join(", ")}`);
  return e.valueCode as ScopeKind;
}

/** Maps a PCF Consent to a consent.granted body (refusing what it cannot keep). */
export function grantOfConsent(input: unknown): ImportedGrant {
  const c = obj(input, "Consent");
  if (c.resourceType !== "Consent") throw unsupported("resourceType", "must be Consent");
  only(c, "", [
    "resourceType",
    "id",
    "meta",
    "text",
    "status",
    "scope",
    "category",
    "patient",
    "dateTime",
    "performer",
    "organization",
    "sourceReference",
    "sourceAttachment",
    "policy",
    "provision",
  ]);
  // Only an agreement in force becomes a grant (draft, proposed, rejected, inactive do not).
  if (c.status !== "active") throw unsupported("status", "only an active Consent becomes a grant");
  if (!has(codings(c.scope, "scope"), SYSTEMS.consentScope, "patient-privacy"))
    throw unsupported("scope", "must be consentscope patient-privacy (PCF)");
  const categories = arr(c.category, "category", 1, 8).flatMap((x, i) => codings(x, `category[${i}]`));
  if (!has(categories, SYSTEMS.loinc, "59284-0"))
    throw unsupported("category", "must include LOINC 59284-0 Patient Consent");
  const patient = identifierOf(c.patient, "patient");
  if (patient.system !== SYSTEMS.patient)
    throw unsupported("patient.identifier.system", `must be ${SYSTEMS.patient} (a pseudonym)`);

  const p = obj(c.provision, "provision");
  only(p, "provision", ["extension", "type", "period", "actor", "purpose", "data"]);
  if (p.type !== "permit")
    throw unsupported("provision.type", "a grant permits; a deny is the absence of a grant");
  const period = obj(p.period, "provision.period");
  only(period, "provision.period", ["start", "end"]);
  const start = str(period.start, "provision.period.start");
  const end = period.end === undefined ? undefined : str(period.end, "provision.period.end");

  let study: string | undefined;
  if (p.data !== undefined) {
    const d = obj(arr(p.data, "provision.data", 1, 1)[0], "provision.data[0]");
    only(d, "provision.data[0]", ["meaning", "reference"]);
    if (d.meaning !== "instance") throw unsupported("provision.data[0].meaning", "must be instance");
    const ref = identifierOf(d.reference, "provision.data[0].reference");
    if (ref.system !== SYSTEMS.study)
      throw unsupported("provision.data[0].reference.identifier.system", `must be ${SYSTEMS.study}`);
    study = ref.value;
  }
  const kind = scopeKind(p.extension, study !== undefined);
  if (STUDY_SCOPES.includes(kind) !== (study !== undefined))
    throw unsupported(
      "provision.data",
      `scope ${kind} ${study === undefined ? "needs" : "takes no"} a study`,
    );

  return {
    patient: patient.value,
    body: {
      patient: patient.value,
      grantee: grantee(p.actor),
      scope: { kind },
      purposes: purposes(p.purpose),
      period: { start, ...(end === undefined ? {} : { end }) },
    },
    refs: study === undefined ? {} : { study },
  };
}
