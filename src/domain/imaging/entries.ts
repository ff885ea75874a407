/**
 * Imaging family (docs/families/imaging.md): a study registered on the ledger by its pseudonymous patient,
 * modality, body part, series and the Merkle root of its instance hashes. The study's DICOM UIDs
 * never leave the node: `studyKey` and `seriesKey` are keyed pseudonyms of them, which also makes
 * registration idempotent (the same study from a folder and from Orthanc is registered once).
 * Per-instance hashes (whole file and pixel data) stay in the node's manifest store; the entry
 * commits to them through `manifestRoot`.
 */
import { z } from "zod";
import { defineEntryType } from "../ledger/entry-types.js";
import { code, keyedId, label, positiveInt, pseudonym, sha256Hex } from "../schemas.js";

/** DICOM Modality (0008,0060) defined terms, e.g. CT, MR, US, PT, MG. */
export const modality = z.string().regex(/^[A-Z]{2,4}$/, "expected a DICOM modality code");

export const seriesSummary = z.strictObject({
  seriesKey: keyedId("se_"),
  modality,
  bodyPart: code.optional(),
  instanceCount: positiveInt,
  /** Merkle root over the sorted instance hashes of the series. */
  manifestRoot: sha256Hex,
});

export const studyRegisteredBody = z.strictObject({
  studyKey: keyedId("st_"),
  patient: pseudonym,
  modalities: z.array(modality).min(1).max(16),
  bodyPart: code.optional(),
  series: z.array(seriesSummary).min(1).max(200),
  instanceCount: positiveInt,
  /** RFC 9162 Merkle root over the study's instance hashes sorted bytewise (docs/families/imaging.md). */
  manifestRoot: sha256Hex,
  /** Which archive the study came from (e.g. "orthanc-main", "folder"). */
  source: z.strictObject({ kind: z.enum(["pacs", "folder", "modality"]), name: label }),
});

export type StudyRegisteredBody = z.infer<typeof studyRegisteredBody>;

export const studyRegistered = defineEntryType({
  type: "study.registered",
  summary:
    "Registers an imaging study: pseudonymous patient, modalities, body part, series, and the Merkle root of its instance hashes.",
  body: studyRegisteredBody,
  refs: {},
  signers: ["institution", "admin", "technologist"],
  apply(ctx) {
    const b = ctx.body;
    const existing = ctx.state.lookup("study.key", b.studyKey, { limit: 1 })[0];
    if (existing)
      ctx.reject("STUDY_ALREADY_REGISTERED", `this study is already registered as ${existing.value}`, {
        at: "body.studyKey",
      });
    const seriesTotal = b.series.reduce((n, s) => n + s.instanceCount, 0);
    if (seriesTotal !== b.instanceCount)
      ctx.reject("ENTRY_SCHEMA_INVALID", "instanceCount must equal the sum of the series' instance counts", {
        at: "body.instanceCount",
      });
    if (new Set(b.series.map((s) => s.seriesKey)).size !== b.series.length)
      ctx.reject("ENTRY_SCHEMA_INVALID", "series keys must be unique", { at: "body.series" });
    // No document: the entry itself is the study's record (getStudy in state.ts reads it), so
    // each registration stores its fields once and touches no (kind, id) B-tree at a random place.
    ctx.state.addIndex("study.key", b.studyKey, ctx.index, ctx.leafHash);
    ctx.state.addIndex("study.patient", b.patient, ctx.index, ctx.leafHash);
    ctx.state.addIndex("study.all", "", ctx.index, ctx.leafHash);
  },
});

export const imagingEntryTypes = [studyRegistered];
