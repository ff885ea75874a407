/**
 * Query endpoints for every query of the record families (src/domain/<family>/queries.ts). Lists
 * page with cursors: `{ items, next }`, `next` passed back as `?after=`. What each role may read is
 * the table in docs/api.md; reads about one patient go through requirePatientScope (a patient sees
 * only their own record; refusals are recorded on the log).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { RadledgerError } from "../core/errors.js";
import { formatTime } from "../core/entry.js";
import { accessesByActor, accessHistory, breakGlassQueue, requireAccess } from "../domain/access/queries.js";
import { aiRecall, listModels } from "../domain/ai/queries.js";
import {
  careOfPatient,
  decide,
  grantsOfPatient,
  grantsToGrantee,
  requireGrant,
} from "../domain/consent/queries.js";
import { accessContext, part, purposeOfUse } from "../domain/consent/schemas.js";
import {
  annotationsOfItem,
  creditReport,
  datasetAnnotations,
  datasetItems,
  datasetShares,
  datasetValidations,
  datasetVendorContributions,
  listDatasets,
  proposeSeal,
  requireDataset,
  versionContents,
} from "../domain/datasets/queries.js";
import {
  listPatients,
  listStudies,
  requireStudy,
  studiesOfPatient,
  studyRecord,
} from "../domain/imaging/queries.js";
import {
  getReportDoc,
  listReports,
  modelsUsedInReport,
  reportsOfPatient,
  reportView,
} from "../domain/reports/queries.js";
import {
  findTrialSubject,
  listTrials,
  readsOfTimepoint,
  requireTrial,
  subjectsOfTrial,
  subjectTimeline,
} from "../domain/trials/queries.js";
import { actorId, code, entryId, keyedId, pseudonym, timestamp } from "../domain/schemas.js";
import { CLINICAL, isOwnPatient, requirePatientScope } from "./patient-access.js";
import {
  defineRoute,
  hasRole,
  pageOptions,
  pageOut,
  pageQuery,
  pageSchema,
  type Api,
  type RouteAuth,
} from "./route.js";

const STAFF_READERS = [...CLINICAL, "admin", "auditor"];
const RECORD_READERS = ["admin", "auditor"];
const RECALL_READERS = ["admin", "auditor", "radiologist", "clinician"];
const TRIAL_READERS = ["trial-coordinator", "sponsor", "radiologist", "technologist", "admin", "auditor"];
const DATASET_READERS = ["curator", "annotator", "researcher", "vendor", "admin", "auditor"];

const idParam = z.strictObject({ id: entryId });
const patientParam = z.strictObject({ patient: pseudonym });
const json = z.record(z.string(), z.unknown());
const versionNumber = z.string().regex(/^[1-9][0-9]{0,8}$/, "expected a version number");

export function registerQueryRoutes(app: FastifyInstance, api: Api): void {
  const state = api.node.store;

  /** A list endpoint over one paged domain query. */
  function list<P>(spec: {
    url: string;
    tag: string;
    summary: string;
    auth: RouteAuth;
    params?: z.ZodType<P>;
    run(params: P, page: { after?: number; limit?: number }): { items: unknown[]; next?: number | string };
  }): void {
    defineRoute(app, api, {
      method: "GET",
      url: spec.url,
      tag: spec.tag,
      summary: spec.summary,
      auth: spec.auth,
      ...(spec.params ? { params: spec.params } : {}),
      query: pageQuery,
      response: { description: "a page", schema: pageSchema() },
      errors: ["RECORD_NOT_FOUND"],
      async handler({ params, query }) {
        return pageOut(spec.run(params, pageOptions(query)));
      },
    });
  }

  // --- reports -------------------------------------------------------------------------------
  list({
    url: "/api/v1/reports",
    tag: "reports",
    summary: "All reports in log order (id, study, patient, status).",
    auth: STAFF_READERS,
    run: (_p, o) => listReports(state, o),
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/reports/:id",
    tag: "reports",
    summary:
      "A report with per-section attribution (author, role, specialty, AI origin and model), consultations, sign-off and amendments. Content commitments only; the text is read through /content.",
    auth: "any",
    params: idParam,
    response: { description: "the report view", schema: json },
    errors: ["RECORD_NOT_FOUND", "FORBIDDEN_NOT_OWN_RECORD", "FORBIDDEN_ROLE"],
    async handler({ params, caller }) {
      const doc = getReportDoc(state, params.id);
      await requirePatientScope(api, caller!, doc.patient, STAFF_READERS, {
        part: { kind: "report", id: doc.id, study: doc.study },
      });
      return reportView(state, params.id);
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

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/studies/:id",
    tag: "imaging",
    summary: "A study's record and every entry that references it (type, index, actor, time).",
    auth: "any",
    params: idParam,
    response: { description: "the study record", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, caller }) {
      const study = requireStudy(state, params.id);
      await requirePatientScope(api, caller!, study.patient, STAFF_READERS, {
        part: { kind: "study", id: study.id },
      });
      return studyRecord(state, params.id);
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
        listPatients(state as Parameters<typeof listPatients>[0], {
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
    "A patient's access history: who accessed which part, when, why, on what basis, permits and denies; newest first unless order=oldest.",
    RECORD_READERS,
    (p, o, q) => accessHistory(state, p, { ...o, oldestFirst: q.order === "oldest" }),
    { order: z.enum(["newest", "oldest"]).optional() },
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

  // --- consent -------------------------------------------------------------------------------
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/grants/:id",
    tag: "consent",
    summary: "One consent grant: its patient, the grantee, admins and auditors.",
    auth: "any",
    params: idParam,
    response: { description: "the grant", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, caller }) {
      const grant = requireGrant(state, params.id);
      const grantee = grant.grantee.kind === "actor" && grant.grantee.id === caller!.actor.id;
      if (!grantee) await requirePatientScope(api, caller!, grant.patient, RECORD_READERS);
      return grant;
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/grantees/:kind/:id/grants",
    tag: "consent",
    summary:
      "Grants to one grantee (actor, institution, trial, dataset), in log order: admins and auditors, or an actor for grants to themself.",
    auth: "any",
    params: z.strictObject({
      kind: z.enum(["actor", "institution", "trial", "dataset"]),
      id: z.string().regex(/^[!-*,-~]{1,255}$/, "expected a grantee id"),
    }),
    response: { description: "grants", schema: z.object({ items: z.array(json) }) },
    async handler({ params, caller }) {
      const self = params.kind === "actor" && params.id === caller!.actor.id;
      if (!self && !hasRole(caller!, RECORD_READERS))
        throw new RadledgerError("FORBIDDEN_ROLE", "grants to others are for admins and auditors");
      return { items: grantsToGrantee(state, params.kind, params.id) };
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/consent/decide",
    tag: "consent",
    summary:
      "The consent decision for a hypothetical access (nothing is served and nothing recorded): admins and auditors for anyone, an actor for themself, a patient about their own record.",
    auth: "any",
    body: z.strictObject({
      actor: actorId.optional(),
      patient: pseudonym,
      part,
      purpose: purposeOfUse,
      time: timestamp.optional(),
      breakGlass: z.strictObject({ reason: code }).optional(),
      context: accessContext.optional(),
    }),
    response: { description: "the decision", schema: json },
    async handler({ body, caller }) {
      const actor = body.actor ?? caller!.actor.id;
      const allowed =
        actor === caller!.actor.id || hasRole(caller!, RECORD_READERS) || isOwnPatient(caller!, body.patient);
      if (!allowed)
        throw new RadledgerError("FORBIDDEN_ROLE", "only admins and auditors ask about other actors' access");
      return decide(state, {
        actor,
        patient: body.patient,
        part: body.part,
        purpose: body.purpose,
        time: body.time ?? formatTime(api.node.clock.now()),
        ...(body.breakGlass ? { breakGlass: body.breakGlass } : {}),
        ...(body.context ? { context: body.context } : {}),
      });
    },
  });

  // --- access --------------------------------------------------------------------------------
  list({
    url: "/api/v1/access/break-glass",
    tag: "access",
    summary:
      "Break-glass permits awaiting review, oldest first (auditors; close one with POST /api/v1/entries/access.reviewed).",
    auth: ["auditor"],
    run: (_p, o) => breakGlassQueue(state, o),
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/access/:id",
    tag: "access",
    summary: "One access record: auditors, admins, its patient and its accessing actor.",
    auth: "any",
    params: idParam,
    response: { description: "the access record", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, caller }) {
      const access = requireAccess(state, params.id);
      if (access.actor !== caller!.actor.id)
        await requirePatientScope(api, caller!, access.patient, RECORD_READERS);
      return access;
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/actors/:id/access",
    tag: "access",
    summary:
      "Every access decision about one actor, newest first unless order=oldest: auditors, admins, the actor.",
    auth: "any",
    params: z.strictObject({ id: actorId }),
    query: z.strictObject({ ...pageQuery.shape, order: z.enum(["newest", "oldest"]).optional() }),
    response: { description: "a page", schema: pageSchema() },
    async handler({ params, query, caller }) {
      if (params.id !== caller!.actor.id && !hasRole(caller!, RECORD_READERS))
        throw new RadledgerError("FORBIDDEN_ROLE", "another actor's accesses are for admins and auditors");
      return pageOut(
        accessesByActor(state, params.id, { ...pageOptions(query), oldestFirst: query.order === "oldest" }),
      );
    },
  });

  // --- AI ------------------------------------------------------------------------------------
  list({
    url: "/api/v1/ai/models",
    tag: "ai",
    summary: "Registered AI model versions in log order.",
    auth: "any",
    run: (_p, o) => listModels(state, o),
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/ai/models/:id/recall",
    tag: "ai",
    summary: "AI recall: every report, study and patient touched by this model version.",
    auth: RECALL_READERS,
    params: idParam,
    response: { description: "the recall result", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params }) {
      return aiRecall(state, { id: params.id });
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/ai/recall",
    tag: "ai",
    summary: "AI recall by vendor, model name and version.",
    auth: RECALL_READERS,
    query: z.strictObject({
      vendor: z.string().min(1).max(200),
      name: z.string().min(1).max(200),
      version: z.string().min(1).max(64),
    }),
    response: { description: "the recall result", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ query }) {
      return aiRecall(state, query);
    },
  });

  // --- trials --------------------------------------------------------------------------------
  list({
    url: "/api/v1/trials",
    tag: "trials",
    summary: "Trials registered at this site, in log order.",
    auth: TRIAL_READERS,
    run: (_p, o) => listTrials(state, o),
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/trials/:id",
    tag: "trials",
    summary: "One trial.",
    auth: TRIAL_READERS,
    params: idParam,
    response: { description: "the trial", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params }) {
      return requireTrial(state, params.id);
    },
  });
  list({
    url: "/api/v1/trials/:id/subjects",
    tag: "trials",
    summary: "A trial's subjects in enrolment order.",
    auth: TRIAL_READERS,
    params: idParam,
    run: (p, o) => subjectsOfTrial(state, p.id, o),
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/trials/:id/subjects/by-pseudonym/:subject",
    tag: "trials",
    summary: "The subject record enrolled in this trial under a trial pseudonym (ts_…).",
    auth: TRIAL_READERS,
    params: z.strictObject({ id: entryId, subject: keyedId("ts_") }),
    response: { description: "the subject", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params }) {
      requireTrial(state, params.id);
      const subject = findTrialSubject(state, params.id, params.subject);
      if (!subject) throw new RadledgerError("RECORD_NOT_FOUND", "no such subject in this trial");
      return subject;
    },
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/trial-subjects/:id/timeline",
    tag: "trials",
    summary:
      "A subject's timeline in log order: enrolment, timepoints, reads and every correction, with the current version marked.",
    auth: TRIAL_READERS,
    params: idParam,
    query: pageQuery,
    response: { description: "the timeline (a page)", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, query }) {
      const t = subjectTimeline(state, params.id, pageOptions(query));
      return { ...t, ...pageOut(t) };
    },
  });
  list({
    url: "/api/v1/trial-timepoints/:id/reads",
    tag: "trials",
    summary: "Reads of a timepoint (each at its current version), in log order.",
    auth: TRIAL_READERS,
    params: idParam,
    run: (p, o) => readsOfTimepoint(state, p.id, o),
  });

  // --- datasets ------------------------------------------------------------------------------
  list({
    url: "/api/v1/datasets",
    tag: "datasets",
    summary: "Datasets of this log, in log order.",
    auth: DATASET_READERS,
    run: (_p, o) => listDatasets(state, o),
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/datasets/:id",
    tag: "datasets",
    summary: "One dataset with its counters and sealed versions.",
    auth: DATASET_READERS,
    params: idParam,
    response: { description: "the dataset", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params }) {
      return requireDataset(state, params.id);
    },
  });
  type DatasetQuery = (
    s: typeof state,
    id: string,
    o: { after?: number; limit?: number },
  ) => { items: unknown[]; next?: number };
  const datasetList = (suffix: string, summary: string, run: DatasetQuery): void =>
    list({
      url: `/api/v1/datasets/:id/${suffix}`,
      tag: "datasets",
      summary,
      auth: DATASET_READERS,
      params: idParam,
      run: (p, o) => run(state, p.id, o),
    });
  datasetList("items", "Items of a dataset in log order.", datasetItems);
  datasetList("annotations", "Annotations of a dataset in log order.", datasetAnnotations);
  datasetList(
    "vendor-contributions",
    "Vendor contributions to a dataset in log order.",
    datasetVendorContributions,
  );
  datasetList("shares", "Shares of a dataset's sealed versions.", datasetShares);
  datasetList("validations", "Model validations recorded against the dataset.", datasetValidations);
  list({
    url: "/api/v1/dataset-items/:id/annotations",
    tag: "datasets",
    summary: "Annotations of one dataset item.",
    auth: DATASET_READERS,
    params: idParam,
    run: (p, o) => annotationsOfItem(state, p.id, o),
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/datasets/:id/versions/:version",
    tag: "datasets",
    summary: "The content hashes of a version (the leaves of its manifest root) and, once sealed, the root.",
    auth: DATASET_READERS,
    params: z.strictObject({ id: entryId, version: versionNumber }),
    response: { description: "the version's contents", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params }) {
      return versionContents(state, params.id, Number(params.version));
    },
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/datasets/:id/credits",
    tag: "datasets",
    summary:
      "The credit report of a version (default: latest sealed, else the open one): who contributed which items, annotations and vendor contributions.",
    auth: DATASET_READERS,
    params: idParam,
    query: z.strictObject({ version: versionNumber.optional() }),
    response: { description: "the credit report", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, query }) {
      return creditReport(state, params.id, query.version === undefined ? undefined : Number(query.version));
    },
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/datasets/:id/seal-proposal",
    tag: "datasets",
    summary:
      "The dataset.version.sealed body a curator would sign now (manifest root and contributors from the log).",
    auth: ["curator", "admin"],
    params: idParam,
    response: { description: "the proposed seal body", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params }) {
      return proposeSeal(state, api.node.crypto, params.id);
    },
  });
}
