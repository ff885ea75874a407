/** Pieces every query module uses: path parameters and the paged list route. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { entryId, pseudonym } from "../../domain/schemas.js";
import {
  defineRoute,
  pageOptions,
  pageOut,
  pageQuery,
  pageSchema,
  type Api,
  type RouteAuth,
} from "../route.js";

export const idParam = z.strictObject({ id: entryId });
export const patientParam = z.strictObject({ patient: pseudonym });
export const json = z.record(z.string(), z.unknown());
export const versionNumber = z.string().regex(/^[1-9][0-9]{0,8}$/, "expected a version number");

export type ListRoute = <P>(spec: {
  url: string;
  tag: string;
  summary: string;
  auth: RouteAuth;
  params?: z.ZodType<P>;
  run(params: P, page: { after?: number; limit?: number }): { items: unknown[]; next?: number | string };
}) => void;

/** Declares list endpoints, each over one paged domain query. */
export function listRoutes(app: FastifyInstance, api: Api): ListRoute {
  return (spec) => {
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
  };
}
