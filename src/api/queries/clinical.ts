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
import {
  getReportDoc,
  listReports,
  modelsUsedInReport,
  reportsOfPatient,
  reportView,
} from "../../domain/reports/queries.js";
import { pseudonym, timestamp } from "../../domain/schemas.js";
import { requirePatientScope } from "../patient-access.js";
import { defineRoute, pageOptions, pageOut, pageQuery, pageSchema, type Api } from "../route.js";
import { RECORD_READERS, STAFF_READERS } from "../roles.js";
import { idParam, json, listRoutes, patientParam, recordRoutes } from "./shared.js";
import { accessFilterQuery, patientAccessPage } from "./consent-access.js";

export function registerClinicalQueries(app: FastifyInstance, api: Api): void {
  const state = api.node.store;
  const list = listRoutes(app, api);
  const record = recordRoutes(app, api);

  // --- reports -------------------------------------------------------------------------------
  list({
    url: "/api/v1/reports",
    tag: "reports",
    summary: "All reports in log order (id, study, patient, status).",
    auth: STAFF_READERS,
    run: (_p, o) => listReports(state, o),
  });

  record({
    url: "/api/v1/reports/:id",
    tag: "reports",
    summary:
      "A report with per-section attribution (author, role, specialty, AI origin and model), consultations, sign-off and amendments. Content commitments only; the text is read through /content.",
    auth: "any",
    what: "the report view",
    errors: ["FORBIDDEN_NOT_OWN_RECORD", "FORBIDDEN_ROLE"],
    async read(id, caller) {
      const doc = getReportDoc(state, id);
      await requirePatientScope(api, caller!, doc.patient, STAFF_READERS, {
        part: { kind: "report", id: doc.id, study: doc.study },
      });
      return reportView(state, id);
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
    tag: "imaging",
    summary: "All registered studies in log order.",
    auth: STAFF_READERS,
    run: (_p, o) => listStudies(state, o),
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
      errors: ["FORBIDDEN_NOT_OWN_RECORD", "FORBIDDEN_ROLE"],
      async handler({ params, query, caller }) {
        await requirePatientScope(api, caller!, params.patient, staff);
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
    "A patient's access history: who accessed which part, when, why, on what basis, permits and denies; newest first unless order=oldest. Filters: from, to, actor, part, purpose, decision, basis (a filtered page examines at most 10,000 records and may be short with `next`).",
    RECORD_READERS,
    (p, o, q) => patientAccessPage(state, p, o, q),
    { order: z.enum(["newest", "oldest"]).optional(), ...accessFilterQuery },
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
    async handler({ params, query, caller }) {
      await requirePatientScope(api, caller!, params.patient, RECORD_READERS);
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
    async handler({ params, caller }) {
      await requirePatientScope(api, caller!, params.patient, [
        ...RECORD_READERS,
        "clinician",
        "radiologist",
      ]);
      return { items: careOfPatient(state, params.patient) };
    },
  });
}
