/**
 * AI provenance family (docs/families/ai.md, mission area 2): model versions as registered devices, each
 * inference they make on a study, and a radiologist's disposition of an AI finding. A report
 * contribution of AI origin must reference an inference of a registered, non-retired model version
 * (enforced in the reports family), which is what makes the recall query — every report, study and
 * patient touched by model X version Y — complete.
 */
import { z } from "zod";
import { defineEntryType } from "../ledger/entry-types.js";
import { defineValueSet, requireMember } from "../value-sets.js";
import { code, label, positiveInt, sha256Hex } from "../schemas.js";
import { modality, studyRegistered, type StudyRegisteredBody } from "../imaging/entries.js";
import { fromUtf8 } from "../../core/bytes.js";
import type { ApplyContext } from "../ledger/entry-types.js";
import { getStudy } from "../imaging/state.js";
import { getModel, modelKey, type InferenceDoc } from "./state.js";
import { getReport } from "../reports/state.js";

export const modelRegistered = defineEntryType({
  type: "ai.model.registered",
  summary:
    "Registers an AI model version: vendor, name, version, artifact hash, regulatory identifier and intended use.",
  body: z.strictObject({
    vendor: label,
    name: label,
    version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, "expected a version string"),
    /** SHA-256 of the model artifact (weights, container image digest…), as the vendor ships it. */
    artifactHash: sha256Hex,
    /** e.g. an FDA 510(k) number or an EU MDR UDI-DI. */
    regulatoryId: label.optional(),
    intendedUse: label,
    modalities: z.array(modality).max(16).optional(),
    bodyParts: z.array(code).max(16).optional(),
  }),
  refs: {},
  signers: ["institution", "admin", "vendor"],
  apply(ctx) {
    const b = ctx.body;
    const key = modelKey(b.vendor, b.name, b.version);
    const existing = ctx.state.lookup("ai.model.key", key, { limit: 1 })[0];
    if (existing)
      ctx.reject(
        "MODEL_ALREADY_REGISTERED",
        `${b.vendor} ${b.name} ${b.version} is already registered as ${existing.value}`,
      );
    ctx.state.putDoc("ai.model", ctx.leafHash, {
      id: ctx.leafHash,
      index: ctx.index,
      ...b,
      status: "active",
      registeredBy: ctx.entry.actor,
      registeredAt: ctx.entry.time,
    });
    ctx.state.addIndex("ai.model.key", key, ctx.index, ctx.leafHash);
    ctx.state.addIndex("ai.model.all", "", ctx.index, ctx.leafHash);
  },
});

/** Why a model version is retired (docs/families/ai.md). */
export const retirementReasons = defineValueSet("model retirement reason", [
  /** A newer version replaces it. */
  "superseded",
  /** A safety issue (field safety notice, harmful output). */
  "safety-issue",
  /** Performance fell below its validated level (drift, local validation failed). */
  "performance-drift",
  /** The regulatory clearance was withdrawn or expired. */
  "regulatory-withdrawal",
  /** The vendor withdrew the product or ended support. */
  "vendor-withdrawal",
  /** The institution stopped using it (contract ended, clinical decision). */
  "end-of-use",
  "other",
]);

export const modelRetired = defineEntryType({
  type: "ai.model.retired",
  summary:
    "Retires a model version: no inference of it is accepted afterwards, and AI content must not cite it.",
  body: z.strictObject({ reason: retirementReasons.body }),
  refs: { model: { types: ["ai.model.registered"] } },
  signers: ["institution", "admin", "vendor"],
  apply(ctx) {
    requireMember(ctx, retirementReasons, ctx.body.reason, "body.reason");
    const model = getModel(ctx.state, ctx.ref("model").leafHash)!;
    if (model.status === "retired") ctx.reject("MODEL_RETIRED", `model ${model.id} is already retired`);
    ctx.state.putDoc("ai.model", model.id, {
      ...model,
      status: "retired",
      retiredAt: ctx.entry.time,
      retiredReason: ctx.body.reason,
    });
  },
});

export const inferenceRecorded = defineEntryType({
  type: "ai.inference",
  summary:
    "Records one inference of a registered model version: its input (manifest root), output commitment and where it ran.",
  body: z.strictObject({
    /** Merkle root of the input instances (a study's or series' manifest root). */
    inputManifestRoot: sha256Hex,
    /** Commitment to the output (findings, segmentations, scores) kept in the vault or the AI system. */
    outputCommitment: sha256Hex,
    /** Which node or site ran the model. */
    node: label,
    findingCount: positiveInt.optional(),
  }),
  refs: { model: { types: ["ai.model.registered"] }, study: { types: ["study.registered"], optional: true } },
  signers: ["institution", "ai-system"],
  apply(ctx) {
    const model = getModel(ctx.state, ctx.ref("model").leafHash)!;
    if (model.status !== "active")
      ctx.reject("MODEL_RETIRED", `model ${model.vendor} ${model.name} ${model.version} is retired`, {
        at: "refs.model",
      });
    const studyRef = ctx.refs("study")[0];
    const study = studyRef ? getStudy(ctx.state, studyRef.leafHash) : undefined;
    // Provenance checked, not declared (issue 22 §3): a new inference names the registered study it
    // read, and its input must be that study's images — the study's manifest root or one of its
    // series' roots (docs/families/imaging.md). Append-time rules only: logs written before them
    // hold inferences without a study or with an unchecked root, and a replayed log must rebuild
    // the same state (docs/log-format.md; ApplyContext.replay), so replay admits them unchanged.
    if (ctx.replay !== true) {
      if (!study)
        ctx.reject("INFERENCE_STUDY_REQUIRED", "an inference references the registered study it read", {
          at: "refs.study",
        });
      else if (!inputRoots(ctx.state, study.id).includes(ctx.body.inputManifestRoot))
        ctx.reject(
          "INFERENCE_INPUT_MISMATCH",
          "inputManifestRoot is neither the study's manifest root nor one of its series' roots",
          { at: "body.inputManifestRoot" },
        );
    }
    ctx.state.putDoc("ai.inference", ctx.leafHash, {
      id: ctx.leafHash,
      index: ctx.index,
      model: model.id,
      ...(study ? { study: study.id, patient: study.patient } : {}),
      inputManifestRoot: ctx.body.inputManifestRoot,
      outputCommitment: ctx.body.outputCommitment,
      node: ctx.body.node,
      by: ctx.entry.actor,
      time: ctx.entry.time,
    });
    if (study) ctx.state.addIndex("ai.usage", model.id, ctx.index, `study ${study.id} ${study.patient}`);
    // Output commitment → inference: lets the reports family refuse human-marked content that is an
    // AI output verbatim (AI_CONTENT_AS_HUMAN, docs/families/ai.md).
    ctx.state.addIndex("ai.output", ctx.body.outputCommitment, ctx.index, ctx.leafHash);
  },
});

/** The roots an inference on a study may read: the study's manifest root and its series' roots. */
function inputRoots(state: ApplyContext<unknown>["state"], studyId: string): string[] {
  const stored = state.entryByLeafHash(studyId);
  if (stored?.type !== studyRegistered.type) return [];
  const body = (JSON.parse(fromUtf8(stored.bytes)) as { body: StudyRegisteredBody }).body;
  return [body.manifestRoot, ...body.series.map((s) => s.manifestRoot)];
}

export const findingDisposition = defineEntryType({
  type: "ai.finding.disposition",
  summary: "A radiologist accepts, modifies or rejects the findings of an inference.",
  body: z.strictObject({
    disposition: z.enum(["accepted", "modified", "rejected"]),
    findingId: code.optional(),
    noteCommitment: sha256Hex.optional(),
  }),
  refs: { inference: { types: ["ai.inference"] }, report: { types: ["report.opened"], optional: true } },
  signers: ["radiologist"],
  apply(ctx) {
    const inference = ctx.state.getDoc("ai.inference", ctx.ref("inference").leafHash) as InferenceDoc;
    const report = ctx.refs("report")[0];
    // A sign-off freezes the report, and the report page shows each finding's latest disposition
    // for that report: a later one would change a signed report behind its signature. After
    // sign-off the radiologist amends (reason ai-revision) or records a disposition naming no
    // report. Logs written before this rule keep replaying (src/domain/value-sets.ts).
    if (report && ctx.replay !== true) {
      const doc = getReport(ctx.state, report.leafHash);
      if (doc && doc.status !== "open")
        ctx.reject("REPORT_SIGNED", "the report is signed: its AI findings were decided before sign-off", {
          at: "refs.report",
        });
    }
    // The report view shows who decided what about the model's output, and when (issue 22 §3).
    const named = report ? getReport(ctx.state, report.leafHash) : undefined;
    if (named)
      ctx.state.putDoc("report", named.id, {
        ...named,
        aiDispositions: [
          ...(named.aiDispositions ?? []),
          {
            id: ctx.leafHash,
            inference: inference.id,
            model: inference.model,
            disposition: ctx.body.disposition,
            ...(ctx.body.findingId === undefined ? {} : { findingId: ctx.body.findingId }),
            by: ctx.entry.actor,
            time: ctx.entry.time,
          },
        ],
      });
    ctx.state.addIndex(
      "ai.disposition",
      inference.id,
      ctx.index,
      `${ctx.body.disposition} ${ctx.entry.actor}${report ? ` ${report.leafHash}` : ""}`,
    );
  },
});

export const aiEntryTypes = [modelRegistered, modelRetired, inferenceRecorded, findingDisposition];
