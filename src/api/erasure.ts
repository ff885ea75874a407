/**
 * Erasure through the running node (docs/api.md §Erasure, docs/security.md §Erasure and backups):
 * `POST /api/v1/patients/{patient}/erasure` with a coded reason. Admins only — the role that may sign
 * `patient.data.erased` (docs/families/privacy.md); the node signs the entry with the key it holds for
 * the admin, so the log names who erased, then shreds the patient's key, salts and content in the
 * vault, with no need to stop the node. An admin who holds their own key submits the signed entry to
 * POST /api/v1/entries first; this endpoint then finds it recorded and completes the shredding.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { erasePatient } from "../app/erase.js";
import { erasureReasons } from "../domain/privacy/entries.js";
import { pseudonym } from "../domain/schemas.js";
import { heldKey } from "./entries.js";
import { defineRoute, type Api } from "./route.js";

const erasureResponse = z.object({
  patient: z.string(),
  recorded: z.boolean().describe("whether this request appended patient.data.erased"),
  items: z.number().int().describe("vault items this request deleted"),
  erasure: z
    .object({ id: z.string(), index: z.number().int(), by: z.string(), at: z.string(), reason: z.string() })
    .describe("the erasure entry on the log"),
});

interface ErasureDoc {
  id: string;
  index: number;
  by: string;
  at: string;
  reason: string;
}

export function registerErasureRoutes(app: FastifyInstance, api: Api): void {
  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/patients/:patient/erasure",
    tag: "privacy",
    summary:
      "Erases a patient's off-ledger data (crypto-shredding): records patient.data.erased, signed with the key the node holds for the calling admin (unless the erasure is already on the log), then destroys the patient's data key, salts and content in the vault. Idempotent: calling it again completes an interrupted erasure.",
    auth: ["admin"],
    params: z.strictObject({ patient: pseudonym }),
    body: z.strictObject({
      reason: erasureReasons.schema.describe("why: a code of the erasure reason value set"),
    }),
    response: { description: "what was done, and the erasure entry", schema: erasureResponse },
    errors: ["SIGNING_KEY_NOT_HELD", "ERASURE_INCOMPLETE"],
    async handler({ params, body, caller }) {
      const recordedBefore = api.node.store.getDoc("erasure", params.patient) !== undefined;
      const result = await erasePatient(
        api.node,
        params.patient,
        body.reason,
        recordedBefore ? undefined : heldKey(api, caller!),
      );
      const erasure = api.node.store.getDoc("erasure", params.patient) as unknown as ErasureDoc;
      return { patient: params.patient, ...result, erasure };
    },
  });
}
