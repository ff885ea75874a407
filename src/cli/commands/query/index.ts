/**
 * `radledger query …`: the record families' queries from the command line, read-only (works while
 * the node serves). Human-readable by default; with --json one JSON document on stdout. Record ids
 * may be given as unique prefixes (≥ 6 hex digits). Each family's module adds its subcommands;
 * common.ts holds the options and the run they share.
 */
import type { Command } from "commander";
import { registerReportQueries } from "./reports.js";
import { registerAiQueries } from "./ai.js";
import { registerAccessQueries } from "./access.js";
import { registerConsentQueries } from "./consent.js";
import { registerTrialQueries } from "./trials.js";
import { registerDatasetQueries } from "./datasets.js";
import { registerImagingQueries } from "./imaging.js";
import { registerListQuery } from "./list.js";

export function registerQuery(program: Command): void {
  const query = program.command("query").description("answer the record families' questions (read-only)");
  // In the order `radledger query --help` lists them.
  registerReportQueries(query);
  registerAiQueries(query);
  registerAccessQueries(query);
  registerConsentQueries(query);
  registerTrialQueries(query);
  registerDatasetQueries(query);
  registerImagingQueries(query);
  registerListQuery(query);
}
