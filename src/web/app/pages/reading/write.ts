/**
 * Writing to a report from the browser (docs/families/reports.md, ai.md): text goes to the vault
 * (POST /api/v1/vault → its commitment), and only the commitment goes on the log, in an entry the
 * node signs with the key it holds for the signed-in person (POST /api/v1/entries/{type}). The
 * text is never part of the entry.
 */
import { api } from "../../api.js";

export interface Appended {
  readonly index: number;
  readonly leafHash: string;
}

export async function putText(patient: string, text: string): Promise<string> {
  const r = await api<{ commitment: string }>("/api/v1/vault", {
    method: "POST",
    body: { patient, content: { text } },
  });
  return r.commitment;
}

export function append(
  type: string,
  body: Record<string, unknown>,
  refs: Record<string, string | string[]>,
): Promise<Appended> {
  return api<Appended>(`/api/v1/entries/${type}`, { method: "POST", body: { body, refs } });
}
