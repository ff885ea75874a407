/**
 * TEST STUB — NOT AUTHENTICATION. Replace with the API's real authentication (branch `api`:
 * src/api/auth*) when it is merged.
 *
 * It trusts an `X-Radledger-Actor: <actor id>` header, so anyone who can reach the node can claim
 * to be anyone. `radledger serve` enables it only with the explicitly named flag
 * `--insecure-actor-header`, for tests and local trials of the DICOMweb gatekeeper and the FHIR
 * export; the access entries it leads to are still real.
 */
import type { FastifyRequest } from "fastify";
import { ACTOR_ID_PATTERN } from "../core/entry.js";

export const ACTOR_HEADER = "x-radledger-actor";

export async function insecureHeaderActor(req: FastifyRequest): Promise<{ actor: string } | undefined> {
  const v = req.headers[ACTOR_HEADER];
  const actor = Array.isArray(v) ? v[0] : v;
  return actor !== undefined && ACTOR_ID_PATTERN.test(actor) ? { actor } : undefined;
}
