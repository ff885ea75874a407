/**
 * Consent family (docs/families/consent.md, area 4): a patient's grants and revocations, and the care relationships
 * the institution records — the two bases on which the gatekeeper permits access (besides the
 * patient's own access and break-glass). Only the patient's enrolled key grants or revokes, or the
 * institution (institution or admin key) acting on the patient's documented request, which the entry
 * records as such (`onBehalf`: a commitment to the request document and a reason code).
 */
import { z } from "zod";
import { defineEntryType, type ApplyContext } from "../ledger/entry-types.js";
import { getStudy } from "../imaging/queries.js";
import { activeActor } from "./decide.js";
import { actorId, code, pseudonym } from "../schemas.js";
import {
  grantee,
  onBehalf,
  period,
  purposeOfUse,
  scope,
  STUDY_SCOPES,
  uniqueList,
  type ScopeKind,
} from "./schemas.js";
import {
  carePairKey,
  getCare,
  getGrant,
  granteeKey,
  type CareDoc,
  type Ending,
  type GrantDoc,
} from "./state.js";

type OnBehalfBody = z.infer<typeof onBehalf>;

/** The patient themself, or the institution on the patient's documented request (CONSENT_NOT_PATIENT). */
function checkPatientOrOnBehalf(ctx: ApplyContext<unknown>, patient: string, request?: OnBehalfBody): void {
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
  body: z.strictObject({ reason: code.optional(), onBehalf: onBehalf.optional() }),
  refs: { grant: { types: ["consent.granted"] } },
  signers: ["patient", "institution", "admin"],
  apply(ctx) {
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
  body: z.strictObject({ reason: code.optional() }),
  refs: { care: { types: ["care.assigned"] } },
  signers: ["institution", "admin", "clinician"],
  apply(ctx) {
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
