/**
 * The administrator's alarms (src/ports/alarms.ts): conditions nobody's request is waiting for, such
 * as an AI result naming a model the node does not know (docs/intake.md "AI results from DICOM").
 * Admins only: subjects name models and intake sources, never patients.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { RadledgerError } from "../core/errors.js";
import { defineRoute, type Api } from "./route.js";

const alarm = z.object({
  id: z.number().int(),
  code: z.string(),
  subject: z.string(),
  message: z.string(),
  firstAt: z.string(),
  lastAt: z.string(),
  count: z.number().int(),
  acknowledgedAt: z.string().nullable(),
});

export function registerAlarmRoutes(app: FastifyInstance, api: Api): void {
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/alarms",
    tag: "operations",
    summary:
      "The node's alarms for its administrator, newest first: open ones, or all with ?all=true (an AI result naming an unregistered model: AI_MODEL_UNKNOWN…).",
    auth: ["admin"],
    query: z.strictObject({ all: z.enum(["true", "false"]).optional() }),
    response: { description: "the alarms", schema: z.object({ items: z.array(alarm) }) },
    handler: async ({ query }) => ({ items: api.node.alarms.list({ all: query.all === "true" }) }),
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/alarms/:id/acknowledgement",
    tag: "operations",
    summary: "Acknowledges an alarm; raised again, it opens again with its count.",
    auth: ["admin"],
    params: z.strictObject({ id: z.string().regex(/^[1-9][0-9]{0,15}$/, "expected a positive integer") }),
    response: { description: "the alarm", schema: alarm },
    errors: ["RECORD_NOT_FOUND"],
    handler: async ({ params }) => {
      const a = api.node.alarms.acknowledge(Number(params.id), new Date(api.node.clock.now()).toISOString());
      if (a === undefined) throw new RadledgerError("RECORD_NOT_FOUND", `no alarm ${params.id}`);
      return a;
    },
  });
}
