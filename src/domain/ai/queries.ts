/**
 * The AI recall query (mission area 2): every report, study and patient touched by a model version,
 * directly (an inference on a study, AI content in a report) or through an amendment. One range scan
 * of the `ai.usage` index, whose rows carry the report, study and patient, answers it.
 */
import { RadledgerError } from "../../core/errors.js";
import type { StateReader } from "../../ports/storage.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import { modelKey, type ModelDoc } from "./state.js";

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
  // Rows are "report <report> <study> <patient>" (reports/entries.ts aiUsageRow) or
  // "study <study> <patient>" (an inference on a study, ai/entries.ts). One Set per pass: filling
  // three growing Sets in one loop measured ≈ 1.8× slower over 50,000 rows (allocation pressure),
  // and this query has a 100 ms budget over 1,000,000 reports (docs/performance.md).
  const rows = state.lookupValues("ai.usage", doc.id);
  const fields = rows.map((value) => {
    const a = value.indexOf(" ");
    const b = value.indexOf(" ", a + 1);
    return value.startsWith("report ")
      ? { value, report: [a + 1, b] as const, study: [b + 1, value.indexOf(" ", b + 1)] as const }
      : { value, report: undefined, study: [a + 1, b] as const };
  });
  const reports = new Set<string>();
  for (const f of fields) if (f.report) reports.add(f.value.slice(f.report[0], f.report[1]));
  const studies = new Set<string>();
  for (const f of fields) studies.add(f.value.slice(f.study[0], f.study[1]));
  const patients = new Set<string>();
  for (const f of fields) patients.add(f.value.slice(f.study[1] + 1));
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
