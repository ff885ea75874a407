/**
 * RFC 9457 problem details for every error the API returns: `application/problem+json` with a
 * stable `code` (docs/errors.md). The status comes from the code's category, so one table decides
 * it for the whole API. Internal errors never leak their message.
 */
import type { FastifyReply } from "fastify";
import { ERROR_CODES, type ErrorCategory, type ErrorCode, RadledgerError } from "../core/errors.js";

export const STATUS_BY_CATEGORY: Record<ErrorCategory, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  verification: 422,
  untrusted: 422,
  too_large: 413,
  headers_too_large: 431,
  unsupported_media: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export function statusOf(code: ErrorCode): number {
  return STATUS_BY_CATEGORY[ERROR_CODES[code]];
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

export function problemOf(error: RadledgerError, instance?: string): Problem {
  const status = statusOf(error.code);
  const detail =
    status >= 500 && error.code === "INTERNAL" ? "internal error (see the node's log)" : error.message;
  const { at, index, reason, access } = error.details;
  return {
    type: `https://radledger.dev/errors#${error.code}`,
    title: error.code.toLowerCase().replaceAll("_", " "),
    status,
    code: error.code,
    detail,
    ...(instance === undefined ? {} : { instance }),
    ...(typeof at === "string" ? { at } : {}),
    ...(typeof index === "number" ? { index } : {}),
    // A denial's reason code and the access.recorded entry that put it on the log.
    ...(typeof reason === "string" ? { reason } : {}),
    ...(typeof access === "string" ? { access } : {}),
  };
}

export function sendProblem(reply: FastifyReply, error: RadledgerError, instance?: string): FastifyReply {
  const problem = problemOf(error, instance);
  return reply.code(problem.status).type("application/problem+json").send(problem);
}
