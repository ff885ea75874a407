/**
 * Consent family (docs/families/consent.md, area 4): a patient's grants and revocations, and the care relationships
 * the institution records — the two bases on which the gatekeeper permits access (besides the
 * patient's own access and break-glass). Only the patient's enrolled key grants or revokes, or the
 * institution (institution or admin key) acting on the patient's documented request, which the entry
 * records as such (`onBehalf`: a commitment to the request document and a reason code).
 */
import { z } from "zod";
import { defineEntryType, type ApplyContext } from "../ledger/entry-types.js";
import { defineValueSet, requireMember } from "../value-sets.js";
import { getStudy } from "../imaging/state.js";
import { getActor, keyCustodyOf, patientActorFor } from "../identity/state.js";
import { actorId, code, entryId, keyedId, pseudonym, sha256Hex, timestamp } from "../schemas.js";
import {
  activeActor,
  carePairKey,
  getCare,
  getGrant,
  granteeKey,
  type CareDoc,
  type Ending,
  type GrantDoc,
} from "./state.js";

// --- Body building blocks, shared with the access family ------------------------------------------
// HL7 v3 PurposeOfUse codes, the parts of a patient's imaging record an access or a grant is about,
// validity periods, grantees and scopes. Ids are opaque and patterned: entry ids (lowercase hex leaf
// hashes) for studies, reports, report sections, trials and datasets; keyed pseudonyms for series and
// instances — never DICOM UIDs.

/**
 * HL7 v3 PurposeOfUse (2.16.840.1.113883.1.11.20448) codes radledger accepts. ETREAT (emergency
 * treatment) is the break-glass purpose; CLINTRL covers clinical-trial care, CLINTRCH and HRESCH
 * research.
 */
export const PURPOSES_OF_USE = [
  "TREAT",
  "ETREAT",
  "COC",
  "CAREMGT",
  "CLINTRL",
  "CLINTRCH",
  "HRESCH",
  "PATRQT",
  "FAMRQT",
  "PWATRNY",
  "HOPERAT",
  "HPAYMT",
  "PUBHLTH",
  "HQUALIMP",
  "TRAIN",
  "RECORDMGT",
  "HLEGAL",
] as const;
export type PurposeOfUse = (typeof PURPOSES_OF_USE)[number];
export const purposeOfUse = z.enum(PURPOSES_OF_USE);

/** The break-glass purpose, and the purpose a care relationship permits. */
export const BREAK_GLASS_PURPOSE: PurposeOfUse = "ETREAT";
export const CARE_PURPOSE: PurposeOfUse = "TREAT";

/** A log origin (checkpoint origin line): printable ASCII without spaces or "+". */
export const logOrigin = z.string().regex(/^[!-*,-~]{1,255}$/, "expected a log origin");

/** Validity period, RFC 3339 UTC with milliseconds; `end` is exclusive and absent when open-ended. */
export const period = z
  .strictObject({ start: timestamp, end: timestamp.optional() })
  .refine((p) => p.end === undefined || p.end > p.start, "period end must be after its start");
export type Period = z.infer<typeof period>;

/**
 * A part of a patient's imaging record. Sub-parts name the study they belong to (the gatekeeper
 * knows it), so that study scopes are decided without reading other families' records.
 */
export const part = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("study"), id: entryId }),
  z.strictObject({ kind: z.literal("series"), id: keyedId("se_"), study: entryId }),
  z.strictObject({ kind: z.literal("instance"), id: keyedId("in_"), study: entryId }),
  z.strictObject({ kind: z.literal("report"), id: entryId, study: entryId }),
  z.strictObject({ kind: z.literal("report-section"), id: entryId, report: entryId, study: entryId }),
  z.strictObject({ kind: z.literal("dataset"), id: entryId }),
  /**
   * The patient's record as a whole: its index of studies and reports, grants, care relationships
   * and access history (what the API's patient-scoped queries read). Only the patient's own actor
   * and an all-imaging grant cover it; it is not a clinical part.
   */
  z.strictObject({ kind: z.literal("record") }),
]);
export type Part = z.infer<typeof part>;
export type PartKind = Part["kind"];

/** Parts of the clinical record: what a care relationship and break-glass may open (not datasets). */
export const CLINICAL_PARTS: readonly PartKind[] = [
  "study",
  "series",
  "instance",
  "report",
  "report-section",
];
export const REPORT_PARTS: readonly PartKind[] = ["report", "report-section"];

/** The study a part belongs to (undefined for datasets and the whole record). */
export function studyOfPart(p: Part): string | undefined {
  if (p.kind === "study") return p.id;
  if (p.kind === "dataset" || p.kind === "record") return undefined;
  return p.study;
}

/** Who a grant is to: an actor of this log, an institution (log origin), a trial or a dataset (entry id). */
export const grantee = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("actor"), id: actorId }),
  z.strictObject({ kind: z.literal("institution"), id: logOrigin }),
  z.strictObject({ kind: z.literal("trial"), id: entryId }),
  z.strictObject({ kind: z.literal("dataset"), id: entryId }),
]);
export type Grantee = z.infer<typeof grantee>;

/**
 * What a grant covers. `study` and `study-reports` name their study through `refs.study`:
 * - all-imaging: every part of the patient's imaging record, datasets included;
 * - study: one study — its series, instances, reports and report sections;
 * - reports-only: every report and report section, no images;
 * - study-reports: the reports and report sections of one study.
 */
export const SCOPE_KINDS = ["all-imaging", "study", "reports-only", "study-reports"] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];
export const STUDY_SCOPES: readonly ScopeKind[] = ["study", "study-reports"];
export const scope = z.strictObject({ kind: z.enum(SCOPE_KINDS) });

/** Why the institution signs a grant or revocation for the patient (docs/families/consent.md). */
export const onBehalfReasons = defineValueSet("on-behalf reason", [
  /** The patient signed a paper form (its scan is the document). */
  "paper-form",
  /** The patient asked in person or by phone; the document records the request. */
  "verbal-request",
  /** A legal representative (guardian, parent, proxy) decided for the patient. */
  "legal-representative",
  /** The patient cannot use the portal (no device, disability). */
  "portal-unavailable",
  "other",
]);

/** Why a grant is revoked. */
export const revocationReasons = defineValueSet("consent revocation reason", [
  /** The patient withdrew the grant. */
  "patient-request",
  /** The purpose of the grant is fulfilled (treatment ended, second opinion given). */
  "purpose-fulfilled",
  /** The grantee no longer needs it (left the institution, trial or dataset closed). */
  "grantee-changed",
  /** The grant was recorded in error. */
  "entered-in-error",
  "other",
]);

/** Why a care relationship ends. */
export const careEndReasons = defineValueSet("care end reason", [
  "discharged",
  "transferred",
  "treatment-completed",
  /** The clinician handed over (shift, rotation, leave). */
  "handover",
  "entered-in-error",
  "other",
]);

/**
 * The institution acting on a patient's documented request: the document's commitment (the document
 * itself in the vault) and a code of the on-behalf reason value set.
 */
export const onBehalf = z.strictObject({ documentCommitment: sha256Hex, reason: onBehalfReasons.body });

/** The context an actor acts in when a grant is to a trial or a dataset. */
export const accessContext = z.strictObject({ kind: z.enum(["trial", "dataset"]), id: entryId });
export type AccessContext = z.infer<typeof accessContext>;

/** What the gatekeeper does with a part once permitted. */
export const ACCESS_ACTIONS = ["read", "export", "download", "print"] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];
export const accessAction = z.enum(ACCESS_ACTIONS);

export const uniqueList = (items: readonly unknown[]): boolean => new Set(items).size === items.length;

// --- Entry types ---------------------------------------------------------------------------------

type OnBehalfBody = z.infer<typeof onBehalf>;

/** The patient themself, or the institution on the patient's documented request (CONSENT_NOT_PATIENT). */
function checkPatientOrOnBehalf(ctx: ApplyContext<unknown>, patient: string, request?: OnBehalfBody): void {
  if (request !== undefined) requireMember(ctx, onBehalfReasons, request.reason, "body.onBehalf.reason");
  if (ctx.actor.kind === "patient") {
    if (ctx.actor.patient !== patient)
      ctx.reject("CONSENT_NOT_PATIENT", "a patient grants and revokes consent for their own record only");
    if (request !== undefined)
      ctx.reject("ENTRY_SCHEMA_INVALID", "a patient signs for themself; onBehalf is for the institution", {
        at: "body.onBehalf",
      });
    return;
  }
  if (!ctx.actor.roles.includes("institution") && !ctx.actor.roles.includes("admin"))
    ctx.reject("CONSENT_NOT_PATIENT", "only the patient or the institution on their behalf manages consent");
  if (request === undefined)
    ctx.reject(
      "CONSENT_NOT_PATIENT",
      "the institution grants or revokes consent only on the patient's documented request (onBehalf)",
      { at: "body.onBehalf" },
    );
  // A patient who holds their own key (key.self-enrolled, docs/security.md "Key custody") signs
  // their consent themself: the node holds the institution's and admins' keys, so an on-behalf
  // entry would be the one way left for it to speak for them.
  const own = patientActorFor(ctx.state, patient);
  const ownActor = own === undefined ? undefined : getActor(ctx.state, own);
  if (ownActor !== undefined && keyCustodyOf(ownActor) === "self")
    ctx.reject(
      "CONSENT_NOT_PATIENT",
      "this patient holds their own key: only their signature grants or revokes their consent",
      { at: "body.onBehalf" },
    );
}

function ending(ctx: ApplyContext<{ reason?: string | undefined }>, request?: OnBehalfBody): Ending {
  return {
    id: ctx.leafHash,
    index: ctx.index,
    at: ctx.entry.time,
    by: ctx.entry.actor,
    ...(ctx.body.reason === undefined ? {} : { reason: ctx.body.reason }),
    ...(request === undefined ? {} : { onBehalf: request }),
  };
}

export const consentGranted = defineEntryType({
  type: "consent.granted",
  summary:
    "A patient (or the institution on the patient's documented request) grants a person, institution, trial or dataset access to part of their imaging record for some purposes and a period.",
  body: z.strictObject({
    patient: pseudonym,
    grantee,
    scope,
    purposes: z.array(purposeOfUse).min(1).max(17).refine(uniqueList, "purposes must be unique"),
    period,
    onBehalf: onBehalf.optional(),
  }),
  refs: { study: { types: ["study.registered"], optional: true } },
  signers: ["patient", "institution", "admin"],
  apply(ctx) {
    const b = ctx.body;
    checkPatientOrOnBehalf(ctx, b.patient, b.onBehalf);
    const scopeKind: ScopeKind = b.scope.kind;
    let study: string | undefined;
    if (STUDY_SCOPES.includes(scopeKind)) {
      const doc = getStudy(ctx.state, ctx.ref("study").leafHash)!;
      if (doc.patient !== b.patient)
        ctx.reject("PATIENT_MISMATCH", "the scope's study belongs to another patient", { at: "refs.study" });
      study = doc.id;
    } else if (ctx.refs("study").length > 0) {
      ctx.reject("ENTRY_SCHEMA_INVALID", `scope ${scopeKind} takes no study reference`, { at: "refs.study" });
    }
    if (b.grantee.kind === "actor" && !activeActor(ctx.state, b.grantee.id))
      ctx.reject("ACTOR_UNKNOWN", `no active enrolled actor ${b.grantee.id}`, { at: "body.grantee.id" });

    const doc: GrantDoc = {
      id: ctx.leafHash,
      index: ctx.index,
      patient: b.patient,
      grantee: b.grantee,
      scope: scopeKind,
      ...(study === undefined ? {} : { study }),
      purposes: b.purposes,
      period: b.period,
      grantedBy: ctx.entry.actor,
      grantedAt: ctx.entry.time,
      ...(b.onBehalf === undefined ? {} : { onBehalf: b.onBehalf }),
    };
    ctx.state.putDoc("consent", ctx.leafHash, doc);
    ctx.state.addIndex("consent.patient", b.patient, ctx.index, ctx.leafHash);
    ctx.state.addIndex("consent.grantee", granteeKey(b.grantee), ctx.index, ctx.leafHash);
  },
});

export const consentRevoked = defineEntryType({
  type: "consent.revoked",
  summary:
    "Revokes a grant at once; the grant stays in the record's history. Signed by the patient or the institution on their documented request.",
  body: z.strictObject({ reason: revocationReasons.body.optional(), onBehalf: onBehalf.optional() }),
  refs: { grant: { types: ["consent.granted"] } },
  signers: ["patient", "institution", "admin"],
  apply(ctx) {
    requireMember(ctx, revocationReasons, ctx.body.reason, "body.reason");
    const grant = getGrant(ctx.state, ctx.ref("grant").leafHash)!;
    checkPatientOrOnBehalf(ctx, grant.patient, ctx.body.onBehalf);
    if (grant.revoked)
      ctx.reject("GRANT_ALREADY_REVOKED", `the grant was revoked at index ${grant.revoked.index}`, {
        at: "refs.grant",
        index: grant.revoked.index,
      });
    ctx.state.putDoc("consent", grant.id, { ...grant, revoked: ending(ctx, ctx.body.onBehalf) });
  },
});

export const careAssigned = defineEntryType({
  type: "care.assigned",
  summary:
    "Records that an actor treats a patient for a period (a care relationship: the basis for TREAT access).",
  body: z.strictObject({
    patient: pseudonym,
    actor: actorId,
    /** e.g. attending, referring, consulting, care-team. */
    relationship: code.optional(),
    period,
  }),
  refs: {},
  signers: ["institution", "admin", "clinician"],
  apply(ctx) {
    const b = ctx.body;
    const target = activeActor(ctx.state, b.actor);
    if (!target || (target.kind !== "staff" && target.kind !== "system"))
      ctx.reject("ACTOR_UNKNOWN", `no active staff or system actor ${b.actor}`, { at: "body.actor" });
    const admin = ctx.actor.roles.includes("institution") || ctx.actor.roles.includes("admin");
    if (!admin && b.actor === ctx.entry.actor)
      ctx.reject("ROLE_NOT_PERMITTED", "a clinician records care relationships for others, not themself", {
        at: "body.actor",
      });
    const doc: CareDoc = {
      id: ctx.leafHash,
      index: ctx.index,
      patient: b.patient,
      actor: b.actor,
      ...(b.relationship === undefined ? {} : { relationship: b.relationship }),
      period: b.period,
      assignedBy: ctx.entry.actor,
      assignedAt: ctx.entry.time,
    };
    ctx.state.putDoc("care", ctx.leafHash, doc);
    ctx.state.addIndex("care.pair", carePairKey(b.patient, b.actor), ctx.index, ctx.leafHash);
    ctx.state.addIndex("care.patient", b.patient, ctx.index, ctx.leafHash);
  },
});

export const careEnded = defineEntryType({
  type: "care.ended",
  summary: "Ends a care relationship at once (discharge, transfer, end of treatment).",
  body: z.strictObject({ reason: careEndReasons.body.optional() }),
  refs: { care: { types: ["care.assigned"] } },
  signers: ["institution", "admin", "clinician"],
  apply(ctx) {
    requireMember(ctx, careEndReasons, ctx.body.reason, "body.reason");
    const care = getCare(ctx.state, ctx.ref("care").leafHash)!;
    if (care.ended)
      ctx.reject("CARE_ALREADY_ENDED", `the care relationship ended at index ${care.ended.index}`, {
        at: "refs.care",
        index: care.ended.index,
      });
    ctx.state.putDoc("care", care.id, { ...care, ended: ending(ctx) });
  },
});

export const consentEntryTypes = [consentGranted, consentRevoked, careAssigned, careEnded];
