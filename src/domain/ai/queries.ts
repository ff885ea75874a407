/**
 * The AI recall query (mission area 2): every report, study and patient touched by a model version,
 * directly (an inference on a study, AI content in a report) or through an amendment. One range scan
 * of the `ai.usage` index, whose rows carry the report, study and patient, answers it.
 */
import { RadledgerError } from "../../core/errors.js";
import type { StateReader } from "../../ports/storage.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import { modelKey, type ModelDoc } from "./entries.js";

export interface RecallResult {
  readonly model: { id: string; vendor: string; name: string; version: string; status: string };
  readonly reports: string[];
  readonly studies: string[];
  readonly patients: string[];
  /** Index rows scanned: inferences on studies plus AI contributions and amendments. */
  readonly uses: number;
}

export function findModel(state: StateReader, vendor: string, name: string, version: string): ModelDoc {
  const row = state.lookup("ai.model.key", modelKey(vendor, name, version), { limit: 1 })[0];
  if (!row) throw new RadledgerError("RECORD_NOT_FOUND", `no registered model ${vendor} ${name} ${version}`);
  return state.getDoc("ai.model", row.value) as ModelDoc;
}

export function aiRecall(
  state: StateReader,
  model: { id: string } | { vendor: string; name: string; version: string },
): RecallResult {
  const doc =
    "id" in model
      ? (state.getDoc("ai.model", model.id) as ModelDoc | undefined)
      : findModel(state, model.vendor, model.name, model.version);
  if (!doc)
    throw new RadledgerError("RECORD_NOT_FOUND", `no registered model ${"id" in model ? model.id : ""}`);
  const reports = new Set<string>();
  const studies = new Set<string>();
  const patients = new Set<string>();
  const rows = state.lookup("ai.usage", doc.id);
  for (const { value } of rows) {
    const parts = value.split(" ");
    if (parts[0] === "report") {
      reports.add(parts[1]!);
      studies.add(parts[2]!);
      patients.add(parts[3]!);
    } else {
      studies.add(parts[1]!);
      patients.add(parts[2]!);
    }
  }
  return {
    model: { id: doc.id, vendor: doc.vendor, name: doc.name, version: doc.version, status: doc.status },
    reports: [...reports],
    studies: [...studies],
    patients: [...patients],
    uses: rows.length,
  };
}

export function listModels(
  state: StateReader,
  options: PageOptions = {},
): Page<{ id: string; vendor: string; name: string; version: string; status: string }> {
  const o = lookupOptions(options);
  return page(state.lookup("ai.model.all", "", { ...o, limit: o.limit + 1 }), o.limit, (r) => {
    const m = state.getDoc("ai.model", r.value) as ModelDoc;
    return { id: m.id, vendor: m.vendor, name: m.name, version: m.version, status: m.status };
  });
}
