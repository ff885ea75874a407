/**
 * Reports, imaging and the patient-centred lists: what clinical staff read, and patients of their
 * own record. Each endpoint answers one query of src/domain/<family>/queries.ts; lists page with
 * cursors (./shared.ts).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { formatTime } from "../../core/entry.js";
import { careOfPatient, grantsOfPatient } from "../../domain/consent/queries.js";
import {
  listPatients,
  listStudies,
  requireStudy,
  studiesOfPatient,
  studyRecord,
} from "../../domain/imaging/queries.js";
import { getReportDoc, modelsUsedInReport, reportsOfPatient } from "../../domain/reports/queries.js";
import {
  consultationsAskedOf,
  REPORT_STAGES,
  reportWorkView,
  worklistReports,
  worklistStudy,
  type ReportStage,
} from "../../domain/reports/worklist.js";
import { pseudonym, timestamp } from "../../domain/schemas.js";
import { requireKnownPatient } from "../../domain/patients.js";
import { recordAuditTrailRead, requirePatientScope } from "../patient-access.js";
import { defineRoute, pageOptions, pageOut, pageQuery, pageSchema, type Api } from "../route.js";
import { RECORD_READERS, STAFF_READERS } from "../roles.js";
import { idParam, json, listRoutes, patientParam, recordRoutes } from "./shared.js";
import { historyFilterQuery, patientAccessPage } from "./consent-access.js";

export function registerClinicalQueries(app: FastifyInstance, api: Api): void {
  const state = api.node.store;
  const list = listRoutes(app, api);
  const record = recordRoutes(app, api);

  // --- reports -------------------------------------------------------------------------------
  // The worklist (docs/web.md "Worklist"): each report with its stage (draft, signed, amended),
  // modality, times and who is on it; filtered by stage and by the caller being on it. A filtered
  // page examines at most MAX_EXAMINED reports and continues with `next` (src/domain/reports/worklist.ts).
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/reports",
    audit: "query",
    tag: "reports",
    summary:
      "Reports in log order (order=newest: latest first), each with id, study, patient, status (open, signed), stage (draft, signed, amended), reportKind, openedBy, openedAt, modalities, bodyPart, contributors (id, name), section and amendment counts, open consultations, signedAt, signedBy. Filters: stage, mine=true (reports the caller opened, wrote, was consulted on or signed); a filtered page examines at most 10,000 reports and continues with next.",
    auth: STAFF_READERS,
    query: z.strictObject({
      ...pageQuery.shape,
      stage: z.enum(REPORT_STAGES as [ReportStage, ...ReportStage[]]).optional(),
      mine: z.enum(["true", "false"]).optional(),
      order: z.enum(["oldest", "newest"]).optional(),
    }),
    response: { description: "a page", schema: pageSchema() },
    async handler({ query, caller }) {
      return pageOut(
        worklistReports(
          state,
          {
            ...(query.stage === undefined ? {} : { stage: query.stage }),
            ...(query.mine === "true" ? { actor: caller!.actor.id } : {}),
            newestFirst: query.order === "newest",
          },
          pageOptions(query),
        ),
      );
    },
  });

  // "Asked of me" (docs/web.md "Reading"): the consultant finds the requests waiting for them.
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/consultations/mine",
    tag: "reports",
    summary:
      "The open consultations asked of the caller, oldest first: id (the consult.requested entry, which consult.answered references), report, reportStage, study, patient, modalities, bodyPart, from, fromName, specialty, requestedAt. An answered one leaves the list.",
    auth: ["radiologist", "clinician"],
    // Reports and patients across the caller's requests: one 110112 query event (docs/audit.md).
    audit: "query",
    query: pageQuery,
    response: { description: "a page", schema: pageSchema() },
    async handler({ query, caller }) {
      return pageOut(consultationsAskedOf(state, caller!.actor.id, pageOptions(query)));
    },
  });

  record({
    url: "/api/v1/reports/:id",
    tag: "reports",
    summary:
      "A report with per-section attribution (author, role, specialty, AI origin and model), consultations, sign-off and amendments; its stage (draft, signed, amended), the study's modalities, the AI findings on its study (inference, model, dispositions, status: accepted, modified, rejected or pending) and consultations with names and times (consultationsDetail). Content commitments only; the text is read through /content.",
    auth: "any",
    what: "the report view",
    errors: ["FORBIDDEN_NOT_OWN_RECORD", "FORBIDDEN_ROLE"],
    async read(id, caller) {
      const doc = getReportDoc(state, id);
      await requirePatientScope(api, caller!, doc.patient, STAFF_READERS, {
        part: { kind: "report", id: doc.id, study: doc.study },
      });
      return reportWorkView(state, api.node.crypto, id);
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/reports/:id/models",
    tag: "reports",
    summary: "Which AI model versions contributed to the report (directly or through an amendment).",
    auth: "any",
    params: idParam,
    response: { description: "model versions", schema: z.object({ items: z.array(json) }) },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, caller }) {
      const doc = getReportDoc(state, params.id);
      await requirePatientScope(api, caller!, doc.patient, STAFF_READERS, {
        part: { kind: "report", id: doc.id, study: doc.study },
      });
      return { items: modelsUsedInReport(state, params.id) };
    },
  });

  // --- imaging -------------------------------------------------------------------------------
  list({
    url: "/api/v1/studies",
    audit: "query",
    tag: "imaging",
    summary:
      "All registered studies in log order, each with registeredAt and its reports (id, stage: draft, signed, amended).",
    auth: STAFF_READERS,
    run: (_p, o) => {
      const p = listStudies(state, o);
      return { ...p, items: p.items.map((s) => worklistStudy(state, s)) };
    },
  });

  record({
    url: "/api/v1/studies/:id",
    tag: "imaging",
    summary: "A study's record and every entry that references it (type, index, actor, time).",
    auth: "any",
    what: "the study record",
    async read(id, caller) {
      const study = requireStudy(state, id);
      await requirePatientScope(api, caller!, study.patient, STAFF_READERS, {
        part: { kind: "study", id: study.id },
      });
      return studyRecord(state, id);
    },
  });

  // --- patients ------------------------------------------------------------------------------
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/patients",
    audit: "query",
    tag: "patients",
    summary: "Every patient pseudonym with a study, in pseudonym order (admins and auditors).",
    auth: RECORD_READERS,
    query: z.strictObject({
      after: pseudonym.optional(),
      limit: z
        .string()
        .regex(/^[1-9][0-9]{0,3}$/)
        .optional(),
    }),
    response: { description: "a page", schema: pageSchema() },
    async handler({ query }) {
      return pageOut(
        listPatients(state, {
          ...(query.after === undefined ? {} : { after: query.after }),
          ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
        }),
      );
    },
  });

  const patientList = (
    url: string,
    summary: string,
    staff: readonly string[],
    run: (
      patient: string,
      o: { after?: number; limit?: number },
      q: Record<string, string | undefined>,
    ) => {
      items: unknown[];
      next?: number | string;
    },
    extraQuery: Record<string, z.ZodType> = {},
    auditTrail = false,
  ): void => {
    defineRoute(app, api, {
      method: "GET",
      url,
      tag: "patients",
      summary,
      auth: "any",
      params: patientParam,
      query: z.strictObject({ ...pageQuery.shape, ...extraQuery }),
      response: { description: "a page", schema: pageSchema() },
      errors: ["FORBIDDEN_NOT_OWN_RECORD", "FORBIDDEN_ROLE", "PATIENT_UNKNOWN"],
      async handler({ params, query, caller }) {
        // Scope first: a patient asking about another pseudonym gets the same 403 whether it exists;
        // then the read is recorded (an access, or one audit-log-used event for the access history).
        await requirePatientScope(api, caller!, params.patient, staff, {
          exists: () => requireKnownPatient(state, params.patient),
          ...(auditTrail ? { record: "audit" as const } : {}),
        });
        if (auditTrail) await recordAuditTrailRead(api, caller!, url, staff, params.patient);
        const q = query as Record<string, string | undefined>;
        return pageOut(run(params.patient, pageOptions(query), q));
      },
    });
  };

  patientList(
    "/api/v1/patients/:patient/studies",
    "A patient's studies in log order.",
    STAFF_READERS,
    (p, o) => studiesOfPatient(state, p, o),
  );
  patientList(
    "/api/v1/patients/:patient/reports",
    "A patient's reports in log order.",
    STAFF_READERS,
    (p, o) => reportsOfPatient(state, p, o),
  );
  patientList(
    "/api/v1/patients/:patient/access",
    "A patient's access history: the accesses this node decided (who accessed which part, when, why, on what basis, permits and denies) and those other hospital systems reported (IHE ATNA), each with its `origin`, merged in log order; newest first unless order=oldest. Filters: from, to, actor, part, purpose, decision, basis, origin, excludeActor (a filtered page examines at most 10,000 records and may be short with `next`).",
    RECORD_READERS,
    (p, o, q) => patientAccessPage(state, p, o, q),
    { order: z.enum(["newest", "oldest"]).optional(), ...historyFilterQuery },
    true,
  );
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/patients/:patient/grants",
    tag: "patients",
    summary:
      "A patient's consent grants in log order, revoked ones included, with their status at `at` (default now).",
    auth: "any",
    params: patientParam,
    query: z.strictObject({ at: timestamp.optional() }),
    response: { description: "grants", schema: z.object({ items: z.array(json) }) },
    errors: ["FORBIDDEN_NOT_OWN_RECORD", "FORBIDDEN_ROLE", "PATIENT_UNKNOWN"],
    async handler({ params, query, caller }) {
      await requirePatientScope(api, caller!, params.patient, RECORD_READERS, {
        exists: () => requireKnownPatient(state, params.patient),
      });
      return {
        items: grantsOfPatient(state, params.patient, { at: query.at ?? formatTime(api.node.clock.now()) }),
      };
    },
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/patients/:patient/care",
    tag: "patients",
    summary: "Care relationships recorded for a patient, in log order (ended ones included).",
    auth: "any",
    params: patientParam,
    response: { description: "care relationships", schema: z.object({ items: z.array(json) }) },
    errors: ["FORBIDDEN_NOT_OWN_RECORD", "FORBIDDEN_ROLE", "PATIENT_UNKNOWN"],
    async handler({ params, caller }) {
      await requirePatientScope(
        api,
        caller!,
        params.patient,
        [...RECORD_READERS, "clinician", "radiologist"],
        { exists: () => requireKnownPatient(state, params.patient) },
      );
      return { items: careOfPatient(state, params.patient) };
    },
  });
}
