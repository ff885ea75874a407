/**
 * Query endpoints for every query of the record families (src/domain/<family>/queries.ts). Lists
 * page with cursors: `{ items, next }`, `next` passed back as `?after=`. What each role may read is
 * the table in docs/api.md; reads about one patient go through requirePatientScope (a patient sees
 * only their own record; refusals are recorded on the log).
 */
import type { FastifyInstance } from "fastify";
import type { Api } from "../route.js";
import { registerAiQueries } from "./ai.js";
import { registerClinicalQueries } from "./clinical.js";
import { registerConsentAccessQueries } from "./consent-access.js";
import { registerResearchQueries } from "./research.js";

export function registerQueryRoutes(app: FastifyInstance, api: Api): void {
  registerClinicalQueries(app, api);
  registerConsentAccessQueries(app, api);
  registerAiQueries(app, api);
  registerResearchQueries(app, api);
}
