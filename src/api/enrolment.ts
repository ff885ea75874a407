/**
 * A patient's own key over HTTP (docs/security.md "Key custody", docs/api.md "Browser keys"):
 *
 * - `POST /api/v1/actors/{id}/enrolment-codes`: an admin (the registrar) issues a one-time code for a
 *   patient actor, shown once; on the log as enrolment-code.issued (who issued it for whom).
 * - `GET /api/v1/actors/{id}/enrolment-codes`: the codes' records (never a secret), for admins.
 * - `POST /api/v1/actors/{id}/browser-key`: the patient, signed in, redeems a code with a new
 *   Ed25519 public key and its proof (src/core/enrolment.ts); on the log as key.self-enrolled. From
 *   then on the node holds no key of theirs and signs nothing as them.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { RadledgerError } from "../core/errors.js";
import { enrolBrowserKey, issueEnrolmentCode, selfEnrollable } from "../app/enrolment.js";
import { actorId, publicKey } from "../domain/schemas.js";
import {
  ENROLMENT_CODE_TTL_SECONDS,
  MAX_ENROLMENT_CODE_TTL_SECONDS,
  MIN_ENROLMENT_CODE_TTL_SECONDS,
  type EnrolmentCodeRecord,
} from "../ports/auth.js";
import { defineRoute, type Api } from "./route.js";

const codeRecord = z.object({
  id: z.string().describe("the code's public id (its first 8 digits), as the log names it"),
  actor: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().optional(),
  attempts: z.number().int(),
  /** Never usable: its issuance did not reach the log. */
  pending: z.literal(true).optional(),
});

/** Code records with times as RFC 3339 (the stored form is milliseconds). */
export function enrolmentCodeView(r: EnrolmentCodeRecord): z.infer<typeof codeRecord> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    id: r.id,
    actor: r.actor,
    createdAt: iso(r.createdAt),
    createdBy: r.createdBy,
    expiresAt: iso(r.expiresAt),
    ...(r.usedAt === undefined ? {} : { usedAt: iso(r.usedAt) }),
    attempts: r.attempts,
    ...(r.pending === undefined ? {} : { pending: r.pending }),
  };
}

export function registerEnrolmentRoutes(app: FastifyInstance, api: Api): void {
  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/actors/:id/enrolment-codes",
    tag: "actors",
    summary:
      "An admin (the registrar) issues a one-time enrolment code for a patient actor, shown once (24 hours unless ttlSeconds says otherwise, at most 30 days); on the log as enrolment-code.issued, naming the code by its public id, never its secret.",
    auth: ["admin"],
    params: z.strictObject({ id: actorId }),
    body: z.strictObject({
      ttlSeconds: z
        .number()
        .int()
        .min(MIN_ENROLMENT_CODE_TTL_SECONDS)
        .max(MAX_ENROLMENT_CODE_TTL_SECONDS)
        .optional(),
    }),
    status: 201,
    response: {
      description: "the code (shown once) and its record",
      schema: z.object({ code: z.string(), record: codeRecord }),
    },
    errors: ["ACTOR_UNKNOWN", "ENROLMENT_NOT_PERMITTED"],
    async handler({ params, body, caller }) {
      const target = selfEnrollable(api.node, params.id);
      const { code, record } = await issueEnrolmentCode(api.node, api.auth, {
        target,
        issuer: caller!.actor,
        ttlSeconds: body.ttlSeconds ?? ENROLMENT_CODE_TTL_SECONDS,
      });
      return { code, record: enrolmentCodeView(record) };
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/actors/:id/enrolment-codes",
    tag: "actors",
    summary:
      "An actor's enrolment code records (never a secret): issued, expiry, used, wrong tries (admins).",
    auth: ["admin"],
    params: z.strictObject({ id: actorId }),
    response: { description: "code records", schema: z.object({ items: z.array(codeRecord) }) },
    async handler({ params }) {
      return { items: api.auth.listEnrolmentCodes(params.id).map(enrolmentCodeView) };
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/actors/:id/browser-key",
    tag: "actors",
    summary:
      "The patient, signed in, enrols a key of their own (made in their browser) with a one-time enrolment code: publicKey (base64 Ed25519) and proof, the key's signature over the enrolment challenge (src/core/enrolment.ts). On the log as key.self-enrolled: the key becomes the patient's only active key, the node's held key is retired and its file removed.",
    auth: "any",
    params: z.strictObject({ id: actorId }),
    body: z.strictObject({
      code: z.string().min(1).max(64),
      publicKey,
      proof: z.string().min(1).max(200),
    }),
    status: 201,
    response: {
      description: "the key.self-enrolled entry and the new key",
      schema: z.object({
        index: z.number().int(),
        leafHash: z.string(),
        keyId: z.string(),
        retired: z.array(z.string()),
        heldKeyRemoved: z.boolean(),
      }),
    },
    errors: [
      "FORBIDDEN_ACTOR_MISMATCH",
      "ENROLMENT_NOT_PERMITTED",
      "ENROLMENT_CODE_INVALID",
      "ENROLMENT_CODE_EXPIRED",
      "ENROLMENT_CODE_USED",
      "ENROLMENT_CODE_EXHAUSTED",
      "ENROLMENT_PROOF_INVALID",
      "KEY_ALREADY_ENROLLED",
    ],
    async handler({ params, body, caller }) {
      // Only the patient themself: an admin who could redeem a code could choose the key.
      if (caller!.actor.id !== params.id)
        throw new RadledgerError(
          "FORBIDDEN_ACTOR_MISMATCH",
          `a browser key is enrolled by ${params.id} themself, signed in; you are ${caller!.actor.id}`,
          { at: "path.id" },
        );
      return enrolBrowserKey(api.node, api.auth, {
        actor: params.id,
        code: body.code,
        publicKey: body.publicKey,
        proof: body.proof,
      });
    },
  });
}
