/**
 * AI provenance projection (docs/families/ai.md): documents `ai.model/<id>` and `ai.inference/<id>`;
 * indexes `ai.model.key` (modelKey → id), `ai.model.all`, `ai.disposition` (inference →
 * dispositions) and `ai.usage` (model → one row per use: what the recall query scans).
 */
import type { ApplyContext } from "../ledger/entry-types.js";

export interface ModelDoc {
  readonly id: string;
  readonly vendor: string;
  readonly name: string;
  readonly version: string;
  readonly status: "active" | "retired";
  readonly [key: string]: unknown;
}

export interface InferenceDoc {
  readonly id: string;
  readonly index: number;
  readonly model: string;
  readonly study?: string;
  readonly patient?: string;
  readonly [key: string]: unknown;
}

export const modelKey = (vendor: string, name: string, version: string): string =>
  `${vendor}\n${name}\n${version}`;

export function getModel(state: ApplyContext<unknown>["state"], id: string): ModelDoc | undefined {
  return state.getDoc("ai.model", id) as ModelDoc | undefined;
}
