/**
 * AI provenance: registered model versions and the recall query (every report, study and patient a
 * model version touched). Each endpoint answers one query of src/domain/<family>/queries.ts; lists
 * page with cursors (./shared.ts).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { aiRecall, listModels } from "../../domain/ai/queries.js";
import { defineRoute, type Api } from "../route.js";
import { RECALL_READERS } from "../roles.js";
import { json, listRoutes, recordRoutes } from "./shared.js";

export function registerAiQueries(app: FastifyInstance, api: Api): void {
  const state = api.node.store;
  const list = listRoutes(app, api);
  const record = recordRoutes(app, api);

  // --- AI ------------------------------------------------------------------------------------
  list({
    url: "/api/v1/ai/models",
    tag: "ai",
    summary: "Registered AI model versions in log order.",
    auth: "any",
    run: (_p, o) => listModels(state, o),
  });

  record({
    url: "/api/v1/ai/models/:id/recall",
    audit: "query",
    tag: "ai",
    summary: "AI recall: every report, study and patient touched by this model version.",
    auth: RECALL_READERS,
    what: "the recall result",
    read(id) {
      return aiRecall(state, { id: id });
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/ai/recall",
    audit: "query",
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
}
