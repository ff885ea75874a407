/**
 * The one way the patient's pages sign consent (docs/web.md "Patient"): with the patient's own key
 * in this browser when they enrolled one (keyCustody "self": the node cannot sign for them, and
 * refuses to — docs/security.md "Key custody"), otherwise by the node with the key it holds for them
 * (POST /api/v1/entries/{type}), which the page labels as such.
 */
import { api } from "../../api.js";
import { submitPatientEntry, type NodeClient } from "../../lib/patient-key.js";

/** The app's requests: same origin, session cookie, and the CSRF header the node asks of cookie changes. */
export const APP_CLIENT: NodeClient = { headers: { "x-radledger-csrf": "1" } };

export type Custody = "node" | "self";

export interface ConsentRequest {
  readonly actor: string;
  readonly custody: Custody;
  /** The log's origin (the first line of its checkpoint): part of every signed entry. */
  readonly origin: string;
  readonly type: "consent.granted" | "consent.revoked";
  readonly body: Record<string, unknown>;
  readonly refs?: Record<string, string>;
}

export async function submitConsent(r: ConsentRequest): Promise<{ index: number; leafHash: string }> {
  if (r.custody === "self")
    return submitPatientEntry(APP_CLIENT, r.actor, {
      origin: r.origin,
      type: r.type,
      body: r.body as never,
      ...(r.refs ? { refs: r.refs } : {}),
    });
  return api<{ index: number; leafHash: string }>(`/api/v1/entries/${r.type}`, {
    method: "POST",
    body: { body: r.body, ...(r.refs ? { refs: r.refs } : {}) },
  });
}
