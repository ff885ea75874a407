/**
 * Clinical trials (subjects, timelines with corrections, reads) and AI training datasets (items,
 * annotations, vendor work, versions, credits). Each endpoint answers one query of
 * src/domain/<family>/queries.ts; lists page with cursors (./shared.ts).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { RadledgerError } from "../../core/errors.js";
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
} from "../../domain/datasets/queries.js";
import {
  findTrialSubject,
  listTrials,
  readsOfTimepoint,
  requireTrial,
  subjectsOfTrial,
  subjectTimeline,
} from "../../domain/trials/queries.js";
import { entryId, keyedId } from "../../domain/schemas.js";
import { defineRoute, pageOptions, pageOut, pageQuery, type Api } from "../route.js";
import { DATASET_READERS, TRIAL_READERS, trialScope } from "../roles.js";
import { idParam, json, listRoutes, recordRoutes, versionNumber } from "./shared.js";

export function registerResearchQueries(app: FastifyInstance, api: Api): void {
  const state = api.node.store;
  const list = listRoutes(app, api);
  const record = recordRoutes(app, api);

  // --- trials --------------------------------------------------------------------------------
  list({
    url: "/api/v1/trials",
    audit: "query",
    tag: "trials",
    summary: "Trials registered at this site, in log order.",
    auth: TRIAL_READERS,
    run: (_p, o, caller) => listTrials(state, o, trialScope(caller!)),
  });
  record({
    url: "/api/v1/trials/:id",
    audit: "query",
    tag: "trials",
    summary: "One trial.",
    auth: TRIAL_READERS,
    what: "the trial",
    read(id, caller) {
      return requireTrial(state, id, trialScope(caller!));
    },
  });
  list({
    url: "/api/v1/trials/:id/subjects",
    audit: "query",
    tag: "trials",
    summary: "A trial's subjects in enrolment order.",
    auth: TRIAL_READERS,
    params: idParam,
    run: (p, o, caller) => subjectsOfTrial(state, p.id, o, trialScope(caller!)),
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/trials/:id/subjects/by-pseudonym/:subject",
    audit: "query",
    tag: "trials",
    summary: "The subject record enrolled in this trial under a trial pseudonym (ts_…).",
    auth: TRIAL_READERS,
    params: z.strictObject({ id: entryId, subject: keyedId("ts_") }),
    response: { description: "the subject", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, caller }) {
      requireTrial(state, params.id, trialScope(caller!));
      const subject = findTrialSubject(state, params.id, params.subject);
      if (!subject) throw new RadledgerError("RECORD_NOT_FOUND", "no such subject in this trial");
      return subject;
    },
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/trial-subjects/:id/timeline",
    audit: "query",
    tag: "trials",
    summary:
      "A subject's timeline in log order: enrolment, timepoints, reads and every correction, with the current version marked.",
    auth: TRIAL_READERS,
    params: idParam,
    query: pageQuery,
    response: { description: "the timeline (a page)", schema: json },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, query, caller }) {
      const t = subjectTimeline(state, params.id, pageOptions(query), trialScope(caller!));
      return { ...t, ...pageOut(t) };
    },
  });
  list({
    url: "/api/v1/trial-timepoints/:id/reads",
    audit: "query",
    tag: "trials",
    summary: "Reads of a timepoint (each at its current version), in log order.",
    auth: TRIAL_READERS,
    params: idParam,
    run: (p, o, caller) => readsOfTimepoint(state, p.id, o, trialScope(caller!)),
  });

  // --- datasets ------------------------------------------------------------------------------
  list({
    url: "/api/v1/datasets",
    tag: "datasets",
    summary: "Datasets of this log, in log order.",
    auth: DATASET_READERS,
    run: (_p, o) => listDatasets(state, o),
  });
  record({
    url: "/api/v1/datasets/:id",
    tag: "datasets",
    summary: "One dataset with its counters and sealed versions.",
    auth: DATASET_READERS,
    what: "the dataset",
    read(id) {
      return requireDataset(state, id);
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
  record({
    url: "/api/v1/datasets/:id/seal-proposal",
    tag: "datasets",
    summary:
      "The dataset.version.sealed body a curator would sign now (manifest root and contributors from the log).",
    auth: ["curator", "admin"],
    what: "the proposed seal body",
    read(id) {
      return proposeSeal(state, api.node.crypto, id);
    },
  });
}
