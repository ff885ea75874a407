/**
 * Reports family (docs/families/reports.md, mission area 1): a report is opened for a study; each specialist's
 * section, measurement and consultation is its own signed, attributed contribution; sign-off lists
 * every contribution and freezes the set; afterwards only amendments and addenda, which reference
 * what they change, can add to it. AI-derived content is marked by origin and must reference an
 * inference of an active model version (src/domain/ai).
 */
import { z } from "zod";
import {
  defineEntryType,
  type ActorDoc,
  type ApplyContext,
  type ResolvedRef,
} from "../ledger/entry-types.js";
import { actorId, code, sha256Hex } from "../schemas.js";
import { defineValueSet, requireMember } from "../value-sets.js";
import { modality } from "../imaging/entries.js";
import { getStudy } from "../imaging/state.js";
import { getModel, type InferenceDoc } from "../ai/state.js";
import { getActor } from "../identity/state.js";
import { getReport, type ContributionView, type ReportDoc } from "./state.js";

export const SECTIONS = [
  "history",
  "technique",
  "comparison",
  "findings",
  "measurement",
  "impression",
  "recommendation",
  "consultation-note",
] as const;
export type Section = (typeof SECTIONS)[number];

/** Which sections each role may author (the "fitting role" rule). */
export const SECTIONS_BY_ROLE: Readonly<Record<string, readonly Section[]>> = {
  radiologist: SECTIONS,
  clinician: ["history", "consultation-note"],
  technologist: ["technique", "measurement"],
  "ai-system": ["findings", "measurement", "impression"],
};

const origin = z.enum(["human", "ai", "ai-modified"]);

const contentFields = {
  section: z.enum(SECTIONS),
  /** The role the author contributes in; must be one the author holds. */
  role: code,
  specialty: code.optional(),
  modality: modality.optional(),
  /** e.g. neuro, cardiac, msk, chest (a short code, not free text). */
  bodySystem: code.optional(),
  /** SHA-256(salt || canonical content); the content lives in the vault. */
  contentCommitment: sha256Hex,
  origin,
  /** The AI finding (the disposition's findingId) content of origin ai or ai-modified comes from. */
  aiFinding: code.optional(),
};

/**
 * Content entered by a system on a clinician's behalf: the clinician it is entered for. The entry is
 * signed by the system (the envelope's actor) and names the clinician; the clinician is the author.
 */
const onBehalfOf = actorId;

/**
 * The author of delegated content (`onBehalfOf`), checked: the signer is a system actor holding the
 * integration role, and the clinician is an active staff member. Without `onBehalfOf`, the signer.
 */
function authorOf(ctx: ApplyContext<{ onBehalfOf?: string | undefined }>): ActorDoc {
  const principal = ctx.body.onBehalfOf;
  if (principal === undefined) return ctx.actor;
  if (ctx.actor.kind !== "system" || !ctx.actor.roles.includes("integration"))
    ctx.reject(
      "DELEGATION_NOT_PERMITTED",
      `${ctx.entry.actor} may not enter content on someone's behalf: only a system actor with the integration role does`,
      { at: "body.onBehalfOf" },
    );
  const author = getActor(ctx.state, principal);
  if (!author || author.status !== "active" || author.kind !== "staff")
    return ctx.reject("DELEGATION_NOT_PERMITTED", `${principal} is not an active enrolled clinician`, {
      at: "body.onBehalfOf",
    });
  return author;
}

/** Checks author role, section and AI origin; returns the attribution for the projection. */
function attribute(
  ctx: ApplyContext<z.infer<z.ZodObject<typeof contentFields>> & { onBehalfOf?: string | undefined }>,
  report: ReportDoc,
  kind: ContributionView["kind"],
  extra: Partial<ContributionView> = {},
): ContributionView {
  const b = ctx.body;
  const author = authorOf(ctx);
  if (!author.roles.includes(b.role))
    ctx.reject("ROLE_NOT_PERMITTED", `${author.id} does not hold role ${b.role}`, { at: "body.role" });
  const allowed = SECTIONS_BY_ROLE[b.role];
  if (!allowed?.includes(b.section))
    ctx.reject("SECTION_NOT_PERMITTED", `a ${b.role} does not author ${b.section} sections`, {
      at: "body.section",
    });
  if (b.role === "ai-system" && b.origin !== "ai")
    ctx.reject("AI_ORIGIN_INVALID", "an AI system contributes content of origin ai only", {
      at: "body.origin",
    });
  const inferenceRef: ResolvedRef | undefined = ctx.refs("inference")[0];
  let inference: InferenceDoc | undefined;
  if (b.origin === "human") {
    if (inferenceRef || b.aiFinding !== undefined)
      ctx.reject(
        "AI_ORIGIN_INVALID",
        "human content does not cite an inference; use origin ai-modified for edited AI output",
        { at: inferenceRef ? "refs.inference" : "body.aiFinding" },
      );
    // Provenance checked, not declared (issue 22 §3): content marked human must not commit to what
    // an AI produced on this study. Refused rather than relabelled: a projection that silently
    // rewrote the signer's declared origin would attribute content differently from the signed
    // entry. Append-time only, so logs written before this rule replay (docs/log-format.md).
    if (ctx.replay !== true && isAiOutput(ctx, report, b.contentCommitment))
      ctx.reject(
        "AI_CONTENT_AS_HUMAN",
        "this content is an AI output on the study: mark it ai or ai-modified and cite the inference",
        { at: "body.contentCommitment" },
      );
  } else {
    if (!inferenceRef)
      return ctx.reject(
        "AI_INFERENCE_REQUIRED",
        `content of origin ${b.origin} must reference the ai.inference it came from`,
        { at: "refs.inference" },
      );
    inference = ctx.state.getDoc("ai.inference", inferenceRef.leafHash) as InferenceDoc;
    const model = getModel(ctx.state, inference.model)!;
    if (model.status !== "active")
      ctx.reject("MODEL_RETIRED", `model ${model.vendor} ${model.name} ${model.version} is retired`, {
        at: "refs.inference",
      });
    if (inference.study !== undefined && inference.study !== report.study)
      ctx.reject("AI_INFERENCE_WRONG_STUDY", "the inference was made on another study", {
        at: "refs.inference",
      });
  }
  const specialty = b.specialty ?? (typeof author.specialty === "string" ? author.specialty : undefined);
  return {
    id: ctx.leafHash,
    index: ctx.index,
    kind,
    section: b.section,
    author: author.id,
    ...(author.id === ctx.entry.actor ? {} : { enteredBy: ctx.entry.actor }),
    role: b.role,
    ...(specialty === undefined ? {} : { specialty }),
    ...(b.modality === undefined ? {} : { modality: b.modality }),
    ...(b.bodySystem === undefined ? {} : { bodySystem: b.bodySystem }),
    origin: b.origin,
    ...(inference ? { inference: inference.id, model: inference.model } : {}),
    ...(b.aiFinding === undefined ? {} : { aiFinding: b.aiFinding }),
    contentCommitment: b.contentCommitment,
    time: ctx.entry.time,
    ...extra,
  };
}

/**
 * Whether `commitment` is an AI output on the report's study: an inference's outputCommitment on
 * that study (the `ai.output` index) or the commitment of AI content already in the report.
 */
function isAiOutput(ctx: ApplyContext<unknown>, report: ReportDoc, commitment: string): boolean {
  for (const id of ctx.state.lookupValues("ai.output", commitment)) {
    const inference = ctx.state.getDoc("ai.inference", id) as InferenceDoc | undefined;
    if (inference?.study === report.study) return true;
  }
  return [...report.contributions, ...report.amendments].some(
    (c) => c.origin !== "human" && c.contentCommitment === commitment,
  );
}

/** The ai.usage row of AI content in a report: what the recall query scans (src/domain/ai/queries.ts). */
export function aiUsageRow(report: { id: string; study: string; patient: string }): string {
  return `report ${report.id} ${report.study} ${report.patient}`;
}

function indexAiUse(ctx: ApplyContext<unknown>, report: ReportDoc, view: ContributionView): void {
  if (view.model !== undefined) ctx.state.addIndex("ai.usage", view.model, ctx.index, aiUsageRow(report));
}

function openReport(ctx: ApplyContext<unknown>): ReportDoc {
  const report = getReport(ctx.state, ctx.ref("report").leafHash)!;
  if (report.status !== "open")
    ctx.reject("REPORT_SIGNED", "the report is signed: add an amendment or addendum instead", {
      at: "refs.report",
    });
  return report;
}

export const reportOpened = defineEntryType({
  type: "report.opened",
  summary: "Opens a report on a registered study.",
  body: z.strictObject({ reportKind: z.enum(["diagnostic", "screening", "trial-read", "second-opinion"]) }),
  refs: { study: { types: ["study.registered"] } },
  signers: ["institution", "radiologist", "admin"],
  apply(ctx) {
    const study = getStudy(ctx.state, ctx.ref("study").leafHash)!;
    const doc: ReportDoc = {
      id: ctx.leafHash,
      index: ctx.index,
      study: study.id,
      patient: study.patient,
      reportKind: ctx.body.reportKind,
      status: "open",
      openedBy: ctx.entry.actor,
      openedAt: ctx.entry.time,
      contributions: [],
      consults: [],
      amendments: [],
    };
    ctx.state.putDoc("report", ctx.leafHash, doc);
    ctx.state.addIndex("report.study", study.id, ctx.index, ctx.leafHash);
    ctx.state.addIndex("report.patient", study.patient, ctx.index, ctx.leafHash);
    ctx.state.addIndex("report.all", "", ctx.index, ctx.leafHash);
  },
});

export const reportContribution = defineEntryType({
  type: "report.contribution",
  summary:
    "One attributed section, measurement or note of an open report, by its author (human or AI, with the inference it came from), or entered by an integration on a clinician's behalf (onBehalfOf).",
  body: z.strictObject({ ...contentFields, onBehalfOf: onBehalfOf.optional() }),
  refs: { report: { types: ["report.opened"] }, inference: { types: ["ai.inference"], optional: true } },
  signers: ["radiologist", "clinician", "technologist", "ai-system", "integration"],
  apply(ctx) {
    const report = openReport(ctx);
    const view = attribute(ctx, report, "contribution");
    ctx.state.putDoc("report", report.id, { ...report, contributions: [...report.contributions, view] });
    indexAiUse(ctx, report, view);
  },
});

export const consultRequested = defineEntryType({
  type: "consult.requested",
  summary:
    "Asks a colleague (by actor id) for a consultation on an open report; the question is a commitment.",
  body: z.strictObject({
    to: z.string().min(1).max(128),
    specialty: code.optional(),
    questionCommitment: sha256Hex,
  }),
  refs: { report: { types: ["report.opened"] } },
  signers: ["radiologist", "clinician"],
  apply(ctx) {
    const report = openReport(ctx);
    const consultant = getActor(ctx.state, ctx.body.to);
    if (
      !consultant ||
      consultant.status !== "active" ||
      !consultant.roles.some((r) => r === "radiologist" || r === "clinician")
    ) {
      ctx.reject("ACTOR_UNKNOWN", `${ctx.body.to} is not an active radiologist or clinician`, {
        at: "body.to",
      });
    }
    if (ctx.body.to === ctx.entry.actor)
      ctx.reject("CONSULT_INVALID", "a consultation is asked of someone else", { at: "body.to" });
    const consult = {
      id: ctx.leafHash,
      from: ctx.entry.actor,
      to: ctx.body.to,
      status: "open" as const,
      ...(ctx.body.specialty ? { specialty: ctx.body.specialty } : {}),
    };
    ctx.state.putDoc("consult", ctx.leafHash, { ...consult, report: report.id, index: ctx.index });
    ctx.state.putDoc("report", report.id, { ...report, consults: [...report.consults, consult] });
    ctx.state.addIndex("consult.open", ctx.body.to, ctx.index, ctx.leafHash);
  },
});

export const consultAnswered = defineEntryType({
  type: "consult.answered",
  summary: "The consultant asked answers; the answer is an attributed contribution to the report.",
  body: z.strictObject({ ...contentFields, section: z.literal("consultation-note") }),
  refs: { consult: { types: ["consult.requested"] } },
  signers: ["radiologist", "clinician"],
  apply(ctx) {
    const consult = ctx.state.getDoc("consult", ctx.ref("consult").leafHash) as {
      id: string;
      report: string;
      to: string;
      status: string;
      index: number;
    };
    if (consult.to !== ctx.entry.actor)
      ctx.reject("CONSULT_WRONG_ANSWERER", `only ${consult.to}, who was asked, answers this consultation`);
    if (consult.status !== "open")
      ctx.reject("CONSULT_ALREADY_ANSWERED", "this consultation is already answered");
    const report = getReport(ctx.state, consult.report)!;
    if (report.status !== "open")
      ctx.reject("REPORT_SIGNED", "the report is signed: add an addendum instead");
    if (ctx.body.origin !== "human")
      ctx.reject("AI_ORIGIN_INVALID", "a consultation answer is human content");
    const view = attribute(ctx, report, "consultation");
    ctx.state.putDoc("consult", consult.id, { ...consult, status: "answered", answer: ctx.leafHash });
    ctx.state.removeIndex("consult.open", consult.to, consult.index);
    ctx.state.putDoc("report", report.id, {
      ...report,
      contributions: [...report.contributions, view],
      consults: report.consults.map((c) =>
        c.id === consult.id ? { ...c, status: "answered" as const, answer: ctx.leafHash } : c,
      ),
    });
  },
});

export const reportSigned = defineEntryType({
  type: "report.signed",
  summary:
    "Sign-off: lists every contribution of the report and freezes the set; by a radiologist, or entered by an integration on a radiologist's behalf (onBehalfOf, e.g. a RIS's final result).",
  /**
   * `preliminary`: a resident's sign-off awaiting an attending's co-signature (report.cosigned). Added
   * after `final` and `preliminary-final`; the enum only grew, so older entries still parse.
   */
  body: z.strictObject({
    attestation: z.enum(["final", "preliminary-final", "preliminary"]),
    onBehalfOf: onBehalfOf.optional(),
  }),
  refs: {
    report: { types: ["report.opened"] },
    contributions: { types: ["report.contribution", "consult.answered"], many: true },
  },
  signers: ["radiologist", "integration"],
  apply(ctx) {
    const report = openReport(ctx);
    // Delegated sign-off (a RIS's final result, src/app/ris-intake): the system signs, naming the
    // radiologist who signed in the RIS; without onBehalfOf the signer is that radiologist.
    const signer = authorOf(ctx);
    if (!signer.roles.includes("radiologist"))
      ctx.reject("ROLE_NOT_PERMITTED", `${signer.id} is not a radiologist: only a radiologist signs off`, {
        at: "body.onBehalfOf",
      });
    const listed = new Set(ctx.refs("contributions").map((r) => r.leafHash));
    const actual = new Set(report.contributions.map((c) => c.id));
    const missing = [...actual].filter((id) => !listed.has(id));
    const foreign = [...listed].filter((id) => !actual.has(id));
    if (missing.length > 0 || foreign.length > 0 || listed.size !== ctx.refs("contributions").length) {
      ctx.reject(
        "REPORT_CONTRIBUTIONS_MISMATCH",
        `sign-off must list exactly the report's ${actual.size} contributions (${missing.length} missing, ${foreign.length} not of this report)`,
        { at: "refs.contributions" },
      );
    }
    if (report.consults.some((c) => c.status === "open"))
      ctx.reject("CONSULT_OPEN", "a consultation of this report is still unanswered");
    // Sign-off rules (issue 22 §3, docs/families/reports.md): only the report's attending — who
    // opened it — or a radiologist who contributed to it signs. Append-time only: logs written
    // before this rule hold sign-offs by others and must replay to the same state (docs/log-format.md).
    // A delegated sign-off is checked for the radiologist it names (the RIS's principal interpreter).
    if (ctx.replay !== true && !mayAttest(report, signer.id))
      ctx.reject(
        "SIGNOFF_NOT_PERMITTED",
        `${signer.id} is neither the report's attending (${report.openedBy}) nor a radiologist contributor`,
      );
    ctx.state.putDoc("report", report.id, {
      ...report,
      status: "signed",
      signOff: {
        id: ctx.leafHash,
        by: signer.id,
        ...(signer.id === ctx.entry.actor ? {} : { enteredBy: ctx.entry.actor }),
        time: ctx.entry.time,
        attestation: ctx.body.attestation,
      },
    });
    ctx.state.addIndex("report.signed", "", ctx.index, report.id);
  },
});

/**
 * Who may attest a report (sign, co-sign): its attending — the actor who opened it — or a radiologist
 * who contributed to it or verified one of its sections.
 */
function mayAttest(report: ReportDoc, actor: string): boolean {
  return (
    report.openedBy === actor ||
    report.contributions.some((c) => c.author === actor && c.role === "radiologist") ||
    (report.verifications ?? []).some((v) => v.by === actor)
  );
}

export const reportCosigned = defineEntryType({
  type: "report.cosigned",
  summary:
    "An attending's co-signature of a report a resident signed as preliminary: the report becomes final.",
  body: z.strictObject({}),
  refs: { report: { types: ["report.opened"] } },
  signers: ["radiologist"],
  apply(ctx) {
    const report = getReport(ctx.state, ctx.ref("report").leafHash)!;
    if (report.status !== "signed" || report.signOff?.attestation !== "preliminary")
      ctx.reject("REPORT_COSIGN_INVALID", "only a report signed as preliminary takes a co-signature", {
        at: "refs.report",
      });
    if (report.cosignature)
      ctx.reject("REPORT_COSIGN_INVALID", `the report is already co-signed by ${report.cosignature.by}`, {
        at: "refs.report",
      });
    if (report.signOff?.by === ctx.entry.actor)
      ctx.reject("SIGNOFF_NOT_PERMITTED", "the co-signer is someone other than the preliminary signer");
    if (!mayAttest(report, ctx.entry.actor))
      ctx.reject(
        "SIGNOFF_NOT_PERMITTED",
        `${ctx.entry.actor} is neither the report's attending (${report.openedBy}) nor a radiologist who contributed to or verified it`,
      );
    ctx.state.putDoc("report", report.id, {
      ...report,
      cosignature: { id: ctx.leafHash, by: ctx.entry.actor, time: ctx.entry.time },
    });
  },
});

export const sectionVerified = defineEntryType({
  type: "report.section.verified",
  summary: "A radiologist (typically the attending) verifies another author's section of a report.",
  body: z.strictObject({}),
  refs: {
    report: { types: ["report.opened"] },
    contribution: { types: ["report.contribution", "consult.answered"] },
  },
  signers: ["radiologist"],
  apply(ctx) {
    const report = getReport(ctx.state, ctx.ref("report").leafHash)!;
    const target = ctx.ref("contribution").leafHash;
    const section = report.contributions.find((c) => c.id === target);
    if (!section)
      return ctx.reject("ENTRY_REF_WRONG_TYPE", "the verified contribution belongs to another report", {
        at: "refs.contribution",
      });
    if (section.author === ctx.entry.actor)
      ctx.reject("SIGNOFF_NOT_PERMITTED", "a section is verified by someone other than its author", {
        at: "refs.contribution",
      });
    if ((report.verifications ?? []).some((v) => v.contribution === target && v.by === ctx.entry.actor))
      ctx.reject("REPORT_COSIGN_INVALID", `${ctx.entry.actor} already verified this section`, {
        at: "refs.contribution",
      });
    ctx.state.putDoc("report", report.id, {
      ...report,
      verifications: [
        ...(report.verifications ?? []),
        { id: ctx.leafHash, contribution: target, by: ctx.entry.actor, time: ctx.entry.time },
      ],
    });
  },
});

/** Why a signed report is amended or added to (docs/families/reports.md). */
export const amendmentReasons = defineValueSet("report amendment reason", [
  /** A factual error in the amended section. */
  "correction",
  /** A dictation or transcription error. */
  "transcription-error",
  /** Left and right (or another side or level) confused. */
  "laterality-error",
  /** A finding was missed in the signed report. */
  "omission",
  /** Wording made clearer; the findings are unchanged. */
  "clarification",
  /** A finding recognised after sign-off (e.g. on a second look). */
  "late-finding",
  /** Prior imaging became available for comparison. */
  "comparison-available",
  /** Clinical information arrived that changes the interpretation. */
  "clinical-information",
  /** A recall: a finding communicated to the referrer after sign-off. */
  "recall",
  /** An AI finding was revised after its model was recalled or corrected. */
  "ai-revision",
  "other",
]);

export const reportAmended = defineEntryType({
  type: "report.amended",
  summary:
    "An amendment (corrects a contribution it references) or addendum (adds to a signed report), attributed like a contribution.",
  body: z.strictObject({
    ...contentFields,
    kind: z.enum(["amendment", "addendum"]),
    /** A code of the amendment reason value set; the amended text itself is the content commitment. */
    reason: amendmentReasons.body,
    onBehalfOf: onBehalfOf.optional(),
  }),
  refs: {
    report: { types: ["report.opened"] },
    amends: { types: ["report.contribution", "consult.answered", "report.amended"], optional: true },
    inference: { types: ["ai.inference"], optional: true },
  },
  signers: ["radiologist", "clinician", "integration"],
  apply(ctx) {
    requireMember(ctx, amendmentReasons, ctx.body.reason, "body.reason");
    const report = getReport(ctx.state, ctx.ref("report").leafHash)!;
    if (report.status !== "signed")
      ctx.reject(
        "REPORT_NOT_SIGNED",
        "an open report takes contributions; amendments are for signed reports",
        { at: "refs.report" },
      );
    const amends = ctx.refs("amends")[0];
    if (ctx.body.kind === "amendment" && !amends)
      ctx.reject("ENTRY_SCHEMA_INVALID", "an amendment references the contribution it changes", {
        at: "refs.amends",
      });
    if (amends && ![...report.contributions, ...report.amendments].some((c) => c.id === amends.leafHash)) {
      ctx.reject("ENTRY_REF_WRONG_TYPE", "the amended contribution belongs to another report", {
        at: "refs.amends",
      });
    }
    const view = attribute(ctx, report, ctx.body.kind, {
      reason: ctx.body.reason,
      ...(amends ? { amends: amends.leafHash } : {}),
    });
    ctx.state.putDoc("report", report.id, { ...report, amendments: [...report.amendments, view] });
    indexAiUse(ctx, report, view);
  },
});

export const reportEntryTypes = [
  reportOpened,
  reportContribution,
  consultRequested,
  consultAnswered,
  reportSigned,
  reportAmended,
  reportCosigned,
  sectionVerified,
];
