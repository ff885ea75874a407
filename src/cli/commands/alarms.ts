/**
 * `radledger alarms`: the node's alarms for its administrator (src/ports/alarms.ts), e.g. an AI result
 * naming a model nobody registered (docs/intake.md "AI results from DICOM"). Works whether or not
 * `serve` runs; the API has the same at GET /api/v1/alarms.
 */
import type { Command } from "commander";
import { RadledgerError } from "../../core/errors.js";
import { openAlarmStore } from "../../wiring/node.js";
import { printJson } from "../output.js";

export function registerAlarms(program: Command): void {
  const alarms = program
    .command("alarms")
    .description("list the node's open alarms for its administrator (an AI result naming an unknown model…)")
    .option("--data <dir>", "data directory")
    .option("--all", "acknowledged alarms too")
    .option("--json", "print the alarms as JSON")
    .action((o: { data?: string; all?: boolean; json?: boolean }) => {
      if (o.data === undefined) throw new RadledgerError("CLI_USAGE", "alarms needs --data <dir>");
      const store = openAlarmStore(o.data);
      try {
        const items = store.list({ all: o.all === true });
        if (o.json) printJson({ items });
        else if (items.length === 0) process.stdout.write("no open alarms\n");
        else
          for (const a of items)
            process.stdout.write(
              `#${a.id} ${a.code} ${a.subject}: ${a.message} (${a.count}×, last ${a.lastAt}${a.acknowledgedAt === null ? "" : `, acknowledged ${a.acknowledgedAt}`})\n`,
            );
      } finally {
        store.close();
      }
    });
  alarms
    .command("ack")
    .description("acknowledge an alarm; raised again, it opens again")
    .argument("<id>", "the alarm's number")
    .option("--data <dir>", "data directory")
    .action((id: string, o: { data?: string }) => {
      if (!/^[1-9][0-9]{0,15}$/.test(id))
        throw new RadledgerError("CLI_USAGE", "the alarm id is a positive integer");
      // `alarms ack N --data DIR`: commander may hand --data to `alarms`, which declares it too.
      const data = o.data ?? alarms.opts<{ data?: string }>().data;
      if (data === undefined) throw new RadledgerError("CLI_USAGE", "alarms ack needs --data <dir>");
      const store = openAlarmStore(data);
      try {
        const a = store.acknowledge(Number(id), new Date().toISOString());
        if (a === undefined) throw new RadledgerError("RECORD_NOT_FOUND", `no alarm ${id}`);
        process.stdout.write(`#${a.id} acknowledged\n`);
      } finally {
        store.close();
      }
    });
}
