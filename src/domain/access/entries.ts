/**
 * Access family (docs/families/access.md, area 3): every gatekeeper decision, permit or deny, is recorded by the
 * node itself (the institution key) before anything is served (docs/design.md §2.6), and break-glass permits
 * wait in a review queue until an auditor closes them. A permit is admitted only if the basis it
 * records permits the access at the entry's time — the same checks decide() makes — so the log never
 * holds a permit without a valid consent, care relationship, own-record or break-glass basis.
 */
import { z } from "zod";
import type { EntryRefs } from "../../core/entry.js";
import type { JsonObject } from "../../core/canonical-json.js";
import { defineEntryType, type ActorDoc, type ApplyContext } from "../ledger/entry-types.js";
import { actorId, pseudonym, sha256Hex } from "../schemas.js";
import { defineValueSet, requireMember } from "../value-sets.js";
import { BREAK_GLASS_ELIGIBLE_ROLES, breakGlassReasons, DEFAULT_BREAK_GLASS_ROLES } from "./break-glass.js";
import {
  DENY_REASONS,
  breakGlassAllowed,
  careVerdict,
  grantVerdict,
  institutionOrigin,
  isOwnRecord,
  type AccessQuery,
  type Decision,
} from "../consent/decide.js";
import {
  accessAction,
  accessContext,
  part,
  purposeOfUse,
  studyOfPart,
  type AccessAction,
} from "../consent/entries.js";
import { activeActor, getCare, getGrant } from "../consent/state.js";
import { getStudy } from "../imaging/state.js";
import { accessReported } from "./reported.js";
import { BREAK_GLASS_QUEUE, type AccessDoc, type AccessReview } from "./state.js";

/**
 * Why an access was denied: decide()'s reasons (src/domain/consent/decide.ts) and the API's own
 * refusals of reads about a patient (src/api/patient-access.ts).
 */
export const denyReasons = defineValueSet("access deny reason", [
  ...DENY_REASONS,
  /** A patient asked about another patient's record. */
  "not-own-record",
  /** The caller's roles do not allow reading this about a patient. */
  "role-not-permitted",
  /** The request carried no valid credentials. */
  "not-authenticated",
]);

/** Bound of `repeat`: more identical accesses within one millisecond is not a viewer but a loop. */
export const MAX_REPEAT = 1000;

/**
 * The roles a `role` basis may name: those the API lets read a patient's record metadata
 * (src/api/roles.ts STAFF_READERS), and the institution itself: the operator reading at the data
 * directory (the CLI), who holds everything at the node anyway (docs/design.md §3.8) — the record
 * makes that visible in the patient's history. Staff roles open metadata only: a role never opens
 * content through the API (decide() never answers it). Only actions read and export.
 */
export const ROLE_BASIS_ROLES = [
  "radiologist",
  "clinician",
  "technologist",
  "admin",
  "auditor",
  "institution",
] as const;

/** The basis a permit records; consent and care name their grant or care relationship in `refs`. */
export const accessBasis = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("patient") }),
  z.strictObject({ kind: z.literal("consent") }),
  z.strictObject({ kind: z.literal("care") }),
  /**
   * The actor's role: reading the record's metadata (ids, times, authors, commitments, access
   * records, lists) under the API's role rules — never content, which only decide()'s bases open
   * (docs/families/access.md, "Basis role"). Only a role of ROLE_BASIS_ROLES the actor holds.
   */
  z.strictObject({ kind: z.literal("role"), role: z.enum(ROLE_BASIS_ROLES) }),
  z.strictObject({
    kind: z.literal("break-glass"),
    /** A code of the break-glass reason value set (./break-glass.ts); legacy codes on replay only. */
    reason: breakGlassReasons.body,
    /**
     * Commitment to the free-text justification, kept in the vault (per patient, encrypted). Required
     * on new appends; logs written before it was required replay without it.
     */
    reasonCommitment: sha256Hex.optional(),
  }),
]);

/** A request id (the API's, or the client's X-Request-Id when well-formed: the client controls it). */
export const TRANSACTION_REQUEST = /^[A-Za-z0-9._:-]{1,64}$/;
/** An IPv4 or IPv6 address as the socket reports it (no zone, no port). */
export const TRANSACTION_ADDRESS = /^[0-9A-Fa-f.:]{2,45}$/;

export const accessRecordedBody = z.strictObject({
  /** The accessing actor's id. */
  actor: actorId,
  patient: pseudonym,
  part,
  action: accessAction,
  purpose: purposeOfUse,
  decision: z.enum(["permit", "deny"]),
  /** Permits only. */
  basis: accessBasis.optional(),
  /** Denies only: a code of the deny reason value set (decide()'s, or the API's own). */
  reason: denyReasons.body.optional(),
  /** The trial or dataset the actor acted for. */
  context: accessContext.optional(),
  /**
   * 1, 2, …: another access identical to one already recorded in the same millisecond (a viewer
   * fetching the same study twice at once). Signatures are deterministic (RFC 8032), so without it
   * the second record would be the same entry and be refused as a duplicate; with it every access
   * is its own entry. Set by the node's gatekeeper; absent on the first.
   */
  repeat: z.number().int().min(1).max(MAX_REPEAT).optional(),
  /**
   * The transaction the access was decided in, as IHE BALP records it: the API's request id
   * (X-Request-Id, entity[transaction]) and, for staff and system actors only, the client's network
   * address (agent[client].network). Set by the node's API (src/api/server.ts), never by the caller.
   * A patient's address is not recorded: it would put the patient's own personal data on a log that
   * cannot erase it (docs/audit.md).
   */
  transaction: z
    .strictObject({
      request: z.string().regex(TRANSACTION_REQUEST),
      address: z.string().regex(TRANSACTION_ADDRESS).optional(),
    })
    .optional(),
});
export type AccessRecordedBody = z.infer<typeof accessRecordedBody>;

type Ctx = ApplyContext<AccessRecordedBody>;

function basisInvalid(ctx: Ctx, reason: string, message: string): never {
  return ctx.reject("ACCESS_BASIS_INVALID", message, { at: "body.basis", reason });
}

/** The part must fit the study and report records it names, where those are on record. */
function checkPart(ctx: Ctx): void {
  const b = ctx.body;
  const studyId = studyOfPart(b.part);
  const study = studyId === undefined ? undefined : getStudy(ctx.state, studyId);
  if (study && study.patient !== b.patient)
    ctx.reject("PATIENT_MISMATCH", "the accessed study belongs to another patient", { at: "body.part" });
  if (study && b.part.kind === "series") {
    const series = study.seriesKeys;
    const key = b.part.id;
    if (!series.includes(key))
      ctx.reject("ACCESS_PART_INVALID", "the series is not part of the named study", { at: "body.part.id" });
  }
  const reportId =
    b.part.kind === "report" ? b.part.id : b.part.kind === "report-section" ? b.part.report : "";
  const report = reportId === "" ? undefined : ctx.state.getDoc("report", reportId);
  if (report && report.patient !== b.patient)
    ctx.reject("PATIENT_MISMATCH", "the accessed report belongs to another patient", { at: "body.part" });
  if (report && report.study !== studyId)
    ctx.reject("ACCESS_PART_INVALID", "the report is not on the named study", { at: "body.part.study" });
}

/** A permit's basis must permit the access at the entry's time (the checks of decide()). */
function checkPermitBasis(ctx: Ctx, actor: ActorDoc | undefined): AccessDoc["basis"] {
  const b = ctx.body;
  const basis = b.basis!;
  if (!actor) return basisInvalid(ctx, "actor-unknown", `no active enrolled actor ${b.actor}`);
  const q: AccessQuery = {
    actor: b.actor,
    patient: b.patient,
    part: b.part,
    purpose: b.purpose,
    time: ctx.entry.time,
    ...(b.context === undefined ? {} : { context: b.context }),
  };
  switch (basis.kind) {
    case "patient":
      if (!isOwnRecord(actor, b.patient))
        basisInvalid(ctx, "no-grant", "basis patient: the actor is not this patient's own actor");
      return { kind: "patient" };
    case "consent": {
      const grant = getGrant(ctx.state, ctx.ref("grant").leafHash)!;
      if (grant.patient !== b.patient)
        ctx.reject("PATIENT_MISMATCH", "the grant is another patient's", { at: "refs.grant" });
      const verdict = grantVerdict(grant, actor, q, () => institutionOrigin(ctx.state));
      if (verdict !== undefined)
        basisInvalid(ctx, verdict, `the grant does not permit this access: ${verdict}`);
      return { kind: "consent", grant: grant.id };
    }
    case "care": {
      const care = getCare(ctx.state, ctx.ref("care").leafHash)!;
      if (care.patient !== b.patient)
        ctx.reject("PATIENT_MISMATCH", "the care relationship is with another patient", { at: "refs.care" });
      const verdict = careVerdict(care, actor, q);
      if (verdict !== undefined)
        basisInvalid(ctx, verdict, `the care relationship does not permit this access: ${verdict}`);
      return { kind: "care", care: care.id };
    }
    case "role":
      if (actor.kind === "patient" || !actor.roles.includes(basis.role))
        basisInvalid(ctx, "role-not-permitted", `basis role: the actor does not hold the role ${basis.role}`);
      if (b.action !== "read" && b.action !== "export")
        basisInvalid(ctx, "role-not-permitted", "basis role permits reading and exporting metadata only");
      return { kind: "role", role: basis.role };
    case "break-glass": {
      requireMember(ctx, breakGlassReasons, basis.reason, "body.basis.reason");
      if (basis.reasonCommitment === undefined && ctx.replay !== true)
        ctx.reject("ACCESS_BASIS_INVALID", "break-glass records the commitment to its justification", {
          at: "body.basis.reasonCommitment",
          reason: "justification-required",
        });
      // The role policy is the node's at append; stored history was admitted under the policy of
      // its time, which may have named any clinical role.
      const roles =
        ctx.replay === true
          ? BREAK_GLASS_ELIGIBLE_ROLES
          : (ctx.policy?.breakGlassRoles ?? DEFAULT_BREAK_GLASS_ROLES);
      if (!breakGlassAllowed(actor, q, roles))
        basisInvalid(
          ctx,
          "break-glass-not-permitted",
          `break-glass is for staff with role ${roles.join(" or ")}, purpose ETREAT, on the clinical record`,
        );
      return {
        kind: "break-glass",
        reason: basis.reason,
        ...(basis.reasonCommitment === undefined ? {} : { reasonCommitment: basis.reasonCommitment }),
      };
    }
  }
}

export const accessRecorded = defineEntryType({
  type: "access.recorded",
  summary:
    "The gatekeeper's decision on one access to part of a patient's record (permit or deny), with purpose and basis.",
  body: accessRecordedBody,
  refs: {
    grant: { types: ["consent.granted"], optional: true },
    care: { types: ["care.assigned"], optional: true },
  },
  signers: ["institution"],
  apply(ctx) {
    const b = ctx.body;
    const hasGrant = ctx.refs("grant").length > 0;
    const hasCare = ctx.refs("care").length > 0;
    if (b.decision === "deny") {
      if (b.basis !== undefined || hasGrant || hasCare)
        basisInvalid(ctx, "deny", "a deny records no basis and references no grant or care relationship");
      if (b.reason === undefined)
        ctx.reject("ACCESS_BASIS_INVALID", "a deny records its reason code", { at: "body.reason" });
      requireMember(ctx, denyReasons, b.reason, "body.reason");
    } else {
      if (b.basis === undefined) basisInvalid(ctx, "no-basis", "a permit records its basis");
      if (b.reason !== undefined)
        ctx.reject("ACCESS_BASIS_INVALID", "a permit's reason is its basis", { at: "body.reason" });
      if (hasGrant !== (b.basis.kind === "consent"))
        basisInvalid(ctx, "refs", "basis consent, and only it, references the grant (refs.grant)");
      if (hasCare !== (b.basis.kind === "care"))
        basisInvalid(ctx, "refs", "basis care, and only it, references the care relationship (refs.care)");
    }
    checkPart(ctx);
    if (b.transaction?.address !== undefined && activeActor(ctx.state, b.actor)?.kind === "patient")
      ctx.reject("INPUT_INVALID", "a patient's network address is not recorded on the log", {
        at: "body.transaction.address",
      });
    const basis =
      b.decision === "permit" ? checkPermitBasis(ctx, activeActor(ctx.state, b.actor)) : undefined;
    const breakGlass = basis?.kind === "break-glass";

    const doc: AccessDoc = {
      id: ctx.leafHash,
      index: ctx.index,
      time: ctx.entry.time,
      actor: b.actor,
      patient: b.patient,
      part: b.part,
      action: b.action,
      purpose: b.purpose,
      decision: b.decision,
      ...(basis === undefined ? {} : { basis }),
      ...(b.reason === undefined ? {} : { reason: b.reason }),
      ...(b.context === undefined ? {} : { context: b.context }),
      ...(b.transaction === undefined ? {} : { transaction: b.transaction }),
      ...(breakGlass ? { review: { open: true } } : {}),
    };
    ctx.state.putDoc("access", ctx.leafHash, doc);
    ctx.state.addIndex("access.patient", b.patient, ctx.index, ctx.leafHash);
    ctx.state.addIndex("access.actor", b.actor, ctx.index, ctx.leafHash);
    if (breakGlass) ctx.state.addIndex(BREAK_GLASS_QUEUE, "", ctx.index, ctx.leafHash);
  },
});

export const accessReviewed = defineEntryType({
  type: "access.reviewed",
  summary: "An auditor closes a break-glass access with an outcome; it leaves the review queue.",
  body: z.strictObject({
    outcome: z.enum(["justified", "unjustified", "escalated"]),
    /** Commitment to the reviewer's note, kept in the vault. */
    noteCommitment: sha256Hex.optional(),
  }),
  refs: { access: { types: ["access.recorded"] } },
  signers: ["auditor"],
  apply(ctx) {
    const access = ctx.state.getDoc("access", ctx.ref("access").leafHash) as unknown as AccessDoc;
    const open =
      access.review ??
      ctx.reject("ACCESS_NOT_BREAK_GLASS", "only break-glass permits are reviewed", { at: "refs.access" });
    if (!open.open)
      ctx.reject("ACCESS_ALREADY_REVIEWED", `the access was reviewed at index ${open.index ?? "?"}`, {
        at: "refs.access",
        ...(open.index === undefined ? {} : { index: open.index }),
      });
    if (access.actor === ctx.entry.actor)
      ctx.reject("ACCESS_SELF_REVIEW", "an auditor cannot review their own break-glass access", {
        at: "refs.access",
      });
    const review: AccessReview = {
      open: false,
      outcome: ctx.body.outcome,
      by: ctx.entry.actor,
      at: ctx.entry.time,
      id: ctx.leafHash,
      index: ctx.index,
      ...(ctx.body.noteCommitment === undefined ? {} : { noteCommitment: ctx.body.noteCommitment }),
    };
    ctx.state.putDoc("access", access.id, { ...access, review });
    ctx.state.removeIndex(BREAK_GLASS_QUEUE, "", access.index);
  },
});

export const accessEntryTypes = [accessRecorded, accessReviewed, accessReported];

/**
 * The access.recorded body and refs that mirror a decision (what the gatekeeper signs after decide()).
 * `reasonCommitment` commits to a break-glass justification's free text (in the vault); a break-glass
 * permit without it is refused at append.
 */
export function accessRecordFor(
  q: AccessQuery,
  action: AccessAction,
  d: Decision,
  options: { reasonCommitment?: string } = {},
): { body: JsonObject; refs: EntryRefs } {
  const common = {
    actor: q.actor,
    patient: q.patient,
    part: q.part,
    action,
    purpose: q.purpose,
    ...(q.context === undefined ? {} : { context: q.context }),
  };
  if (d.decision === "deny") return { body: { ...common, decision: "deny", reason: d.reason }, refs: {} };
  const basis = d.basis;
  switch (basis.kind) {
    case "patient":
      return { body: { ...common, decision: "permit", basis: { kind: "patient" } }, refs: {} };
    case "consent":
      return {
        body: { ...common, decision: "permit", basis: { kind: "consent" } },
        refs: { grant: basis.grant },
      };
    case "care":
      return { body: { ...common, decision: "permit", basis: { kind: "care" } }, refs: { care: basis.care } };
    case "role":
      return { body: { ...common, decision: "permit", basis: { kind: "role", role: basis.role } }, refs: {} };
    case "break-glass":
      return {
        body: {
          ...common,
          decision: "permit",
          basis: {
            kind: "break-glass",
            reason: basis.reason,
            ...(options.reasonCommitment === undefined ? {} : { reasonCommitment: options.reasonCommitment }),
          },
        },
        refs: {},
      };
  }
}
