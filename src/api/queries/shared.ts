/** Pieces every query module uses: path parameters, the one-record route and the paged list route. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ErrorCode } from "../../core/errors.js";
import { entryId, pseudonym } from "../../domain/schemas.js";
import {
  defineRoute,
  pageOptions,
  pageOut,
  pageQuery,
  pageSchema,
  type Api,
  type Caller,
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
  /** The node's audit event of each request (route.ts RouteSpec.audit). */
  audit?: "query" | "audit-log-used";
  params?: z.ZodType<P>;
  run(
    params: P,
    page: { after?: number; limit?: number },
    caller: Caller | undefined,
  ): { items: unknown[]; next?: number | string };
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
      ...(spec.audit ? { audit: spec.audit } : {}),
      ...(spec.params ? { params: spec.params } : {}),
      query: pageQuery,
      response: { description: "a page", schema: pageSchema() },
      errors: ["RECORD_NOT_FOUND"],
      async handler({ params, query, caller }) {
        return pageOut(spec.run(params, pageOptions(query), caller));
      },
    });
  };
}

export type RecordRoute = (spec: {
  url: string;
  tag: string;
  summary: string;
  auth: RouteAuth;
  /** The node's audit event of each request (route.ts RouteSpec.audit). */
  audit?: "query" | "audit-log-used";
  /** What the answer is, for the API document ("the trial"). */
  what: string;
  /** Codes besides RECORD_NOT_FOUND the reader may answer. */
  errors?: readonly ErrorCode[];
  /** Reads the record named by the path's `:id`; throws RECORD_NOT_FOUND or a denial. */
  read(id: string, caller: Caller | undefined): unknown;
}) => void;

/** Declares endpoints that answer one record (or one computed view) named by the path's `:id`. */
export function recordRoutes(app: FastifyInstance, api: Api): RecordRoute {
  return (spec) => {
    defineRoute(app, api, {
      method: "GET",
      url: spec.url,
      tag: spec.tag,
      summary: spec.summary,
      auth: spec.auth,
      ...(spec.audit ? { audit: spec.audit } : {}),
      params: idParam,
      response: { description: spec.what, schema: json },
      errors: ["RECORD_NOT_FOUND", ...(spec.errors ?? [])],
      async handler({ params, caller }) {
        return await spec.read(params.id, caller);
      },
    });
  };
}
