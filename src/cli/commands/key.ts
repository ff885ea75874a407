import type { Command } from "commander";
import { formatVerifierKey } from "../../core/note.js";
import { readConfig } from "../../app/data-dir.js";
import { readLogKey } from "../../app/keys.js";
import { nodeFactory } from "../../wiring/node.js";

export function registerKey(program: Command): void {
  program
    .command("key")
    .description("print the log's checkpoint verifier key (C2SP signed-note form), one line")
    .requiredOption("--data <dir>", "data directory")
    .action((o: { data: string }) => {
      readConfig(o.data);
      process.stdout.write(formatVerifierKey(readLogKey(nodeFactory.crypto, o.data)) + "\n");
    });
}
