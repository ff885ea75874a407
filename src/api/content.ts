/**
 * Protected content over HTTP, only through the gatekeeper (src/app/gatekeeper.ts): report text and
 * section text behind their commitments in the vault. Each read decides, records the access entry
 * (permit or deny, with its basis) durably, and only then answers — a deny is a 403 ACCESS_DENIED
 * naming the reason and the access record. Break-glass is an explicit POST with a reason code from the
 * break-glass value set and a required free-text justification (kept in the vault; the log carries
 * its commitment): it permits staff with a break-glass role of the node's policy (default
 * radiologist, clinician) for emergency treatment, is recorded, and lands in the auditors' review
 * queue, where the justification is shown.
 *
 * Content is put into the vault with POST /api/v1/vault, which answers the commitment to cite in an
 * entry (e.g. report.contribution's contentCommitment).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { fromUtf8 } from "../core/bytes.js";
import { RadledgerError } from "../core/errors.js";
import type { AccessOutcome } from "../app/gatekeeper.js";
import { accessContext, purposeOfUse, type Part, type PurposeOfUse } from "../domain/consent/entries.js";
import { getReportDoc, reportView, type AttributedSection } from "../domain/reports/queries.js";
import { entryId, pseudonym } from "../domain/schemas.js";
import { breakGlassJustification, breakGlassReasons } from "../domain/access/break-glass.js";
import { CLINICAL, defaultPurpose } from "./patient-access.js";
import { defineRoute, type Api, type Caller } from "./route.js";

const readRequest = z.strictObject({
  purpose: purposeOfUse.optional(),
  breakGlass: z
    .strictObject({
      /** A code of the break-glass reason value set (docs/families/access.md). */
      reason: breakGlassReasons.schema,
      /** Required free text; stored in the vault, only its commitment goes on the log. */
      justification: breakGlassJustification,
    })
    .optional(),
  context: accessContext.optional(),
});
type ReadRequest = z.infer<typeof readRequest>;

const readQuery = z.strictObject({
  purpose: purposeOfUse.optional(),
  contextKind: z.enum(["trial", "dataset"]).optional(),
  contextId: entryId.optional(),
});

const contentResponse = z.object({
  access: z.object({
    id: z.string(),
    index: z.number(),
    decision: z.literal("permit"),
    basis: z.record(z.string(), z.unknown()),
    review: z.boolean().optional(),
  }),
  report: z.record(z.string(), z.unknown()),
  sections: z.array(z.record(z.string(), z.unknown())),
  /** The report's consultations with their questions' text (a whole-report read only). */
  consultations: z.array(z.record(z.string(), z.unknown())).optional(),
});

function fromQuery(q: z.infer<typeof readQuery>): ReadRequest {
  if ((q.contextKind === undefined) !== (q.contextId === undefined))
    throw new RadledgerError("INPUT_INVALID", "contextKind and contextId go together", {
      at: "query.contextKind",
    });
  return {
    ...(q.purpose === undefined ? {} : { purpose: q.purpose }),
    ...(q.contextKind === undefined ? {} : { context: { kind: q.contextKind, id: q.contextId! } }),
  };
}

/** Runs the gatekeeper; a deny becomes 403 ACCESS_DENIED (after it is on the log). */
async function gate(
  api: Api,
  caller: Caller,
  patient: string,
  part: Part,
  r: ReadRequest,
): Promise<AccessOutcome & { decision: { decision: "permit" } }> {
  if (r.breakGlass && r.purpose !== undefined && r.purpose !== "ETREAT")
    throw new RadledgerError("INPUT_INVALID", "break-glass is for purpose ETREAT", { at: "purpose" });
  const purpose: PurposeOfUse = r.breakGlass ? "ETREAT" : (r.purpose ?? defaultPurpose(caller));
  const outcome = await api.gatekeeper.authorize({
    actor: caller.actor.id,
    patient,
    part,
    action: "read",
    purpose,
    ...(r.breakGlass
      ? { breakGlass: { reason: r.breakGlass.reason, justification: r.breakGlass.justification } }
      : {}),
    ...(r.context === undefined ? {} : { context: r.context }),
  });
  if (outcome.decision.decision === "deny")
    throw new RadledgerError("ACCESS_DENIED", `access denied: ${outcome.decision.reason}`, {
      reason: outcome.decision.reason,
      access: outcome.access.id,
    });
  return outcome as AccessOutcome & { decision: { decision: "permit" } };
}

function accessOut(o: AccessOutcome): z.infer<typeof contentResponse>["access"] {
  const d = o.decision as Extract<AccessOutcome["decision"], { decision: "permit" }>;
  return {
    id: o.access.id,
    index: o.access.index,
    decision: "permit",
    basis: d.basis,
    ...(d.review ? { review: true } : {}),
  };
}

export function registerContentRoutes(app: FastifyInstance, api: Api): void {
  const state = api.node.store;

  async function readReport(caller: Caller, id: string, r: ReadRequest) {
    const doc = getReportDoc(state, id);
    const outcome = await gate(api, caller, doc.patient, { kind: "report", id: doc.id, study: doc.study }, r);
    const view = reportView(state, id);
    return {
      access: accessOut(outcome),
      report: view as unknown as Record<string, unknown>,
      sections: [...view.sections, ...view.amendments].map((s) => sectionContent(api, s)),
      consultations: doc.consults.map((c) => questionContent(api, c.id)),
    };
  }

  async function readSection(caller: Caller, id: string, section: string, r: ReadRequest) {
    const doc = getReportDoc(state, id);
    const view = reportView(state, id);
    const s = [...view.sections, ...view.amendments].find((c) => c.id === section);
    if (!s) throw new RadledgerError("RECORD_NOT_FOUND", `report ${id} has no section ${section}`);
    const outcome = await gate(
      api,
      caller,
      doc.patient,
      { kind: "report-section", id: section, report: doc.id, study: doc.study },
      r,
    );
    return {
      access: accessOut(outcome),
      report: { id: doc.id, study: doc.study, status: doc.status },
      sections: [sectionContent(api, s)],
    };
  }

  const errors = ["ACCESS_DENIED", "RECORD_NOT_FOUND"] as const;

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/reports/:id/content",
    tag: "content",
    summary:
      "The report's text, section by section, and each consultation's question (consultations), through the gatekeeper: decides (consent, care, own record), records the access on the log, then serves. Query: purpose (default TREAT for staff, PATRQT for patients), contextKind/contextId for trial or dataset work.",
    auth: "any",
    params: z.strictObject({ id: entryId }),
    query: readQuery,
    response: { description: "the access record and the report with its content", schema: contentResponse },
    errors,
    async handler({ params, query, caller }) {
      return readReport(caller!, params.id, fromQuery(query));
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/reports/:id/content",
    tag: "content",
    summary:
      "Reads the report's text (and its consultations' questions) with an explicit request body — the way to break the glass: { breakGlass: { reason, justification } } (reason from the break-glass value set, justification required free text kept in the vault) permits staff with a break-glass role (node policy; default radiologist, clinician) for emergency treatment (ETREAT), is recorded and lands in the review queue.",
    auth: "any",
    params: z.strictObject({ id: entryId }),
    body: readRequest,
    response: { description: "the access record and the report with its content", schema: contentResponse },
    errors,
    async handler({ params, body, caller }) {
      return readReport(caller!, params.id, body);
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/reports/:id/sections/:section/content",
    tag: "content",
    summary: "One section's text (a contribution, consultation answer or amendment), through the gatekeeper.",
    auth: "any",
    params: z.strictObject({ id: entryId, section: entryId }),
    query: readQuery,
    response: { description: "the access record and the section with its content", schema: contentResponse },
    errors,
    async handler({ params, query, caller }) {
      return readSection(caller!, params.id, params.section, fromQuery(query));
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/reports/:id/sections/:section/content",
    tag: "content",
    summary: "One section's text with an explicit request body (purpose, context, break-glass).",
    auth: "any",
    params: z.strictObject({ id: entryId, section: entryId }),
    body: readRequest,
    response: { description: "the access record and the section with its content", schema: contentResponse },
    errors,
    async handler({ params, body, caller }) {
      return readSection(caller!, params.id, params.section, body);
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/vault",
    tag: "content",
    summary:
      "Stores content for a patient in the vault (encrypted under the patient's data key) and answers its commitment, to cite in an entry (e.g. contentCommitment).",
    // Auditors too: a break-glass review's note is free text, so it goes here and only its
    // commitment onto the log (access.reviewed noteCommitment; docs/families/access.md, design §2.9).
    auth: [...CLINICAL, "ai-system", "integration", "admin", "auditor"],
    body: z.strictObject({ patient: pseudonym, content: z.record(z.string(), z.unknown()) }),
    status: 201,
    response: { description: "the commitment", schema: z.object({ commitment: z.string() }) },
    errors: ["VAULT_ERASED", "STORE_FULL", "STORE_IO"],
    async handler({ body }) {
      return api.node.vault.put(body.patient, body.content as Parameters<typeof api.node.vault.put>[1]);
    },
  });
}

/**
 * A consultation's question (consult.requested questionCommitment) from the vault: part of the
 * report the gatekeeper just permitted, so the person asked can read what they are asked.
 */
function questionContent(api: Api, consult: string): Record<string, unknown> {
  const stored = api.node.store.entryByLeafHash(consult);
  const body = stored
    ? (JSON.parse(fromUtf8(stored.bytes)) as { body?: { questionCommitment?: unknown } }).body
    : undefined;
  const commitment = typeof body?.questionCommitment === "string" ? body.questionCommitment : undefined;
  const record = commitment === undefined ? undefined : api.node.vault.get(commitment);
  return record ? { id: consult, question: record.content } : { id: consult, contentStatus: "unavailable" };
}

/** A section with its content from the vault, or contentStatus "unavailable" (never stored, or erased). */
function sectionContent(api: Api, s: AttributedSection): Record<string, unknown> {
  const record = api.node.vault.get(s.contentCommitment);
  return record ? { ...s, content: record.content } : { ...s, contentStatus: "unavailable" };
}
