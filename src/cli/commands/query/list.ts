/** `radledger query list <kind>`: what exists of each listable kind, across the record families. */
import type { Command } from "commander";
import { RadledgerError } from "../../../core/errors.js";
import { listReports } from "../../../domain/reports/queries.js";
import { listModels } from "../../../domain/ai/queries.js";
import { listPatients, listStudies } from "../../../domain/imaging/queries.js";
import { listTrials } from "../../../domain/trials/queries.js";
import { listDatasets } from "../../../domain/datasets/queries.js";
import { defineQuery, out, type QueryInput } from "./common.js";

const kinds = ["studies", "reports", "models", "patients", "trials", "datasets"] as const;

export function registerListQuery(query: Command): void {
  defineQuery(query, {
    command: "list <kind>",
    description: `list what exists, with ids: ${kinds.join(", ")}`,
    options: (c) => c.option("--limit <n>", "at most this many", "1000"),
    answer: ({ log, o, args }: QueryInput<{ limit: string }>) => {
      const kind = args[0]!;
      const limit = Number(o.limit);
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new RadledgerError("CLI_USAGE", "--limit must be a positive integer");
      const s = log.store;
      let items: { id: string; [k: string]: unknown }[];
      switch (kind) {
        case "studies":
          items = listStudies(s, { limit }).items.map((x) => ({
            id: x.id,
            patient: x.patient,
            modalities: x.modalities,
            bodyPart: x.bodyPart,
            instanceCount: x.instanceCount,
          }));
          break;
        case "reports":
          items = listReports(s, { limit }).items;
          break;
        case "models":
          items = listModels(s, { limit }).items;
          break;
        case "patients":
          items = listPatients(s, { limit }).items;
          break;
        case "trials":
          items = listTrials(s, { limit }).items.map((t) => ({
            id: t.id,
            sponsor: t.sponsor,
            protocolId: t.protocolId,
            subjects: t.subjects,
          }));
          break;
        case "datasets":
          items = listDatasets(s, { limit }).items.map((x) => ({
            id: x.id,
            name: x.name,
            openVersion: x.openVersion,
            items: x.items,
          }));
          break;
        default:
          throw new RadledgerError("CLI_USAGE", `unknown kind ${kind}; one of ${kinds.join(", ")}`);
      }
      return items;
    },
    print: (items, { args }) => {
      for (const item of items) {
        const rest = Object.entries(item)
          .filter(([k]) => k !== "id")
          .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`)
          .join("  ");
        out(`${item.id}  ${rest}`);
      }
      if (items.length === 0) out(`no ${args[0]!}`);
    },
  });
}
