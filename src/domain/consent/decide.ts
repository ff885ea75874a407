/**
 * The consent decision (docs/design.md §6.2, IHE BALP AuthZconsent): may this actor open this part of this
 * patient's record for this purpose at this time? A pure function over the projection that the
 * gatekeeper calls before serving, and that the access family re-uses to check the basis a recorded
 * permit claims. It reads the actor, the part's study (and report) document, the patient's grants and
 * the care relationships of the (patient, actor) pair — never anything proportional to the log.
 *
 * Order of evaluation (docs/families/consent.md):
 *  1. the actor is unknown or not active                          → deny  actor-unknown
 *  2. the part's study or report is known to be another patient's → deny  part-not-of-patient
 *  3. the actor is the patient's own actor                        → permit patient (own-record)
 *  4. the patient's grants in log order: the first unrevoked grant whose grantee covers the actor,
 *     whose scope covers the part, that lists the purpose and whose period contains the time
 *                                                                   → permit consent (the grant)
 *  5. purpose TREAT, a clinical part, and a current, not ended care relationship of the pair
 *                                                                   → permit care
 *  6. break-glass requested: purpose ETREAT, staff with a break-glass role, clinical part
 *                                                                   → permit break-glass, review
 *     otherwise                                                     → deny  break-glass-not-permitted
 *  7. deny with the most specific reason any grant or care relationship gave (revoked, care-ended >
 *     expired, not-yet-valid > purpose-not-granted > outside-scope > no-grant).
 */
import { z } from "zod";
import { isCanonicalTime } from "../../core/entry.js";
import { RadledgerError } from "../../core/errors.js";
import type { StateReader } from "../../ports/storage.js";
import {
  breakGlassReasons,
  DEFAULT_BREAK_GLASS_ROLES,
  type BreakGlassReason,
} from "../access/break-glass.js";
import { getStudy } from "../imaging/state.js";
import type { ActorDoc, AdmissionPolicy } from "../ledger/entry-types.js";
import { actorId, pseudonym, timestamp } from "../schemas.js";
import {
  accessContext,
  BREAK_GLASS_PURPOSE,
  CARE_PURPOSE,
  CLINICAL_PARTS,
  part,
  purposeOfUse,
  REPORT_PARTS,
  studyOfPart,
  type AccessContext,
  type Grantee,
  type Part,
  type PurposeOfUse,
} from "./entries.js";
import {
  activeActor,
  careDocsOfPair,
  grantDocsOfPatient,
  inPeriod,
  type CareDoc,
  type GrantDoc,
} from "./state.js";

export interface AccessQuery {
  /** The accessing actor's id. */
  readonly actor: string;
  /** The patient's pseudonym. */
  readonly patient: string;
  readonly part: Part;
  readonly purpose: PurposeOfUse;
  /** When the access happens: RFC 3339 UTC with milliseconds (the canonical entry time form). */
  readonly time: string;
  /** Break-glass: a code of the break-glass reason value set (purpose must be ETREAT). */
  readonly breakGlass?: { readonly reason: BreakGlassReason };
  /** The trial or dataset the actor acts for (grants to a trial or dataset cover only that context). */
  readonly context?: AccessContext;
}

/** The query as the API and CLI parse it. */
export const accessQuery = z.strictObject({
  actor: actorId,
  patient: pseudonym,
  part,
  purpose: purposeOfUse,
  time: timestamp,
  breakGlass: z.strictObject({ reason: breakGlassReasons.schema }).optional(),
  context: accessContext.optional(),
});

export type Basis =
  | { readonly kind: "patient" }
  | { readonly kind: "consent"; readonly grant: string }
  | { readonly kind: "care"; readonly care: string }
  | { readonly kind: "break-glass"; readonly reason: string }
  /** Never decide()'s: the gatekeeper's for metadata reads under the API's role rules. */
  | { readonly kind: "role"; readonly role: string };

export type PermitReason = "own-record" | "consent" | "care" | "role" | "break-glass";

export const DENY_REASONS = [
  "actor-unknown",
  "part-not-of-patient",
  "no-grant",
  "outside-scope",
  "purpose-not-granted",
  "not-yet-valid",
  "expired",
  "revoked",
  "care-ended",
  "break-glass-not-permitted",
] as const;
export type DenyReason = (typeof DENY_REASONS)[number];

export type Decision =
  | {
      readonly decision: "permit";
      readonly basis: Basis;
      /** The grant, when the basis is consent. */
      readonly grant?: string;
      /** Break-glass permits land in the review queue. */
      readonly review?: true;
      readonly reason: PermitReason;
    }
  | { readonly decision: "deny"; readonly reason: DenyReason };

/** How specific a deny reason is: the most specific one among all grants and care relationships wins. */
const RANK: Partial<Record<DenyReason, number>> = {
  "no-grant": 0,
  "outside-scope": 1,
  "purpose-not-granted": 2,
  "not-yet-valid": 3,
  expired: 3,
  revoked: 4,
  "care-ended": 4,
};

function moreSpecific(a: DenyReason, b: DenyReason): DenyReason {
  return (RANK[b] ?? 0) > (RANK[a] ?? 0) ? b : a;
}

/** The log origin of this institution (institution.genesis), which `institution` grantees name. */
export function institutionOrigin(state: StateReader): string | undefined {
  const doc = state.getDoc("institution", "self");
  return typeof doc?.origin === "string" ? doc.origin : undefined;
}

const isStaffOrSystem = (actor: ActorDoc): boolean => actor.kind === "staff" || actor.kind === "system";

/** Does a grant's grantee cover this actor (in this context)? */
export function granteeCovers(
  g: Grantee,
  actor: ActorDoc,
  context: AccessContext | undefined,
  origin: () => string | undefined,
): boolean {
  switch (g.kind) {
    case "actor":
      return g.id === actor.id;
    case "institution":
      return isStaffOrSystem(actor) && g.id === origin();
    case "trial":
    case "dataset":
      return isStaffOrSystem(actor) && context?.kind === g.kind && context.id === g.id;
  }
}

export function scopeCovers(grant: GrantDoc, p: Part): boolean {
  switch (grant.scope) {
    case "all-imaging":
      return true;
    case "reports-only":
      return REPORT_PARTS.includes(p.kind);
    case "study":
      return grant.study !== undefined && studyOfPart(p) === grant.study;
    case "study-reports":
      return REPORT_PARTS.includes(p.kind) && studyOfPart(p) === grant.study;
  }
}

/** Why a grant does not cover the access, or undefined when it does. */
export function grantVerdict(
  grant: GrantDoc,
  actor: ActorDoc,
  q: AccessQuery,
  origin: () => string | undefined,
): DenyReason | undefined {
  if (grant.patient !== q.patient || !granteeCovers(grant.grantee, actor, q.context, origin))
    return "no-grant";
  if (!scopeCovers(grant, q.part)) return "outside-scope";
  if (!grant.purposes.includes(q.purpose)) return "purpose-not-granted";
  const when = inPeriod(grant.period, q.time);
  if (when === "before") return "not-yet-valid";
  if (when === "after") return "expired";
  if (grant.revoked) return "revoked";
  return undefined;
}

/** Why a care relationship does not permit the access, or undefined when it does. */
export function careVerdict(care: CareDoc, actor: ActorDoc, q: AccessQuery): DenyReason | undefined {
  if (care.patient !== q.patient || care.actor !== actor.id || actor.kind === "patient") return "no-grant";
  if (!CLINICAL_PARTS.includes(q.part.kind)) return "outside-scope";
  if (q.purpose !== CARE_PURPOSE) return "purpose-not-granted";
  const when = inPeriod(care.period, q.time);
  if (when === "before") return "not-yet-valid";
  if (when === "after") return "expired";
  if (care.ended) return "care-ended";
  return undefined;
}

/**
 * Break-glass is for staff holding a role of the node's policy (default radiologist, clinician:
 * docs/families/access.md), for emergency treatment, on the clinical record.
 */
export function breakGlassAllowed(
  actor: ActorDoc,
  q: AccessQuery,
  roles: readonly string[] = DEFAULT_BREAK_GLASS_ROLES,
): boolean {
  return (
    q.purpose === BREAK_GLASS_PURPOSE &&
    actor.kind === "staff" &&
    actor.roles.some((r) => roles.includes(r)) &&
    CLINICAL_PARTS.includes(q.part.kind)
  );
}

export function isOwnRecord(actor: ActorDoc, patient: string): boolean {
  return actor.kind === "patient" && actor.patient === patient;
}

/** True when the part's study or report is on record as another patient's. */
export function partOfOtherPatient(state: StateReader, q: AccessQuery): boolean {
  const study = studyOfPart(q.part);
  if (study !== undefined) {
    const doc = getStudy(state, study);
    if (doc !== undefined && doc.patient !== q.patient) return true;
  }
  const report = q.part.kind === "report" ? q.part.id : q.part.kind === "report-section" ? q.part.report : "";
  if (report !== "") {
    const doc = state.getDoc("report", report);
    if (doc !== undefined && doc.patient !== q.patient) return true;
  }
  return false;
}

/**
 * Decides an access; see the order of evaluation above. `policy` is the node's (break-glass roles;
 * default radiologist, clinician). Throws INPUT_INVALID for a malformed time.
 */
export function decide(state: StateReader, q: AccessQuery, policy?: AdmissionPolicy): Decision {
  if (!isCanonicalTime(q.time))
    throw new RadledgerError("INPUT_INVALID", "time must be RFC 3339 UTC with milliseconds", { at: "time" });
  const actor = activeActor(state, q.actor);
  if (!actor) return { decision: "deny", reason: "actor-unknown" };
  if (partOfOtherPatient(state, q)) return { decision: "deny", reason: "part-not-of-patient" };
  if (isOwnRecord(actor, q.patient))
    return { decision: "permit", basis: { kind: "patient" }, reason: "own-record" };

  let origin: string | undefined | null = null;
  const originOf = (): string | undefined => (origin === null ? (origin = institutionOrigin(state)) : origin);
  let reason: DenyReason = "no-grant";
  for (const grant of grantDocsOfPatient(state, q.patient)) {
    const verdict = grantVerdict(grant, actor, q, originOf);
    if (verdict === undefined)
      return {
        decision: "permit",
        basis: { kind: "consent", grant: grant.id },
        grant: grant.id,
        reason: "consent",
      };
    reason = moreSpecific(reason, verdict);
  }
  if (actor.kind !== "patient") {
    for (const care of careDocsOfPair(state, q.patient, actor.id)) {
      const verdict = careVerdict(care, actor, q);
      if (verdict === undefined)
        return { decision: "permit", basis: { kind: "care", care: care.id }, reason: "care" };
      reason = moreSpecific(reason, verdict);
    }
  }
  if (q.breakGlass) {
    if (!breakGlassAllowed(actor, q, policy?.breakGlassRoles))
      return { decision: "deny", reason: "break-glass-not-permitted" };
    return {
      decision: "permit",
      basis: { kind: "break-glass", reason: q.breakGlass.reason },
      review: true,
      reason: "break-glass",
    };
  }
  return { decision: "deny", reason };
}
