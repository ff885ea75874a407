import type { Command } from "commander";
import { readConfig } from "../../app/data-dir.js";
import { RadledgerError } from "../../core/errors.js";
import { currentLogVerifierKey } from "../../app/keys.js";
import { rotateLogKey } from "../../app/key-rotate.js";
import { nodeFactory } from "../../wiring/node.js";
import { printJson } from "../output.js";

export function registerKey(program: Command): void {
  const key = program
    .command("key")
    .description(
      "print the log's current checkpoint verifier key (C2SP signed-note form), one line; `key rotate` replaces the log key",
    )
    .option("--data <dir>", "data directory")
    .action((o: { data?: string }) => {
      if (o.data === undefined) {
        key.help({ error: true });
        return;
      }
      readConfig(o.data);
      process.stdout.write(currentLogVerifierKey(nodeFactory.crypto, o.data) + "\n");
    });
  key
    .command("rotate")
    .description(
      "replace the log key (file or HSM, as config.json says): the old key signs a key.rotated entry naming the new verifier key, the next checkpoint carries both signatures, later ones only the new key's (docs/log-format.md §Log key rotation). Needs the writer lock: stop `radledger serve` first",
    )
    .option("--data <dir>", "data directory")
    .option("--json", "print the result as JSON")
    .action(async (o: { data?: string; json?: boolean }) => {
      // `key rotate --data DIR`: commander hands --data to `key`, which declares it too.
      const data = o.data ?? key.opts<{ data?: string }>().data;
      if (data === undefined) throw new RadledgerError("CLI_USAGE", "key rotate needs --data <dir>");
      const node = nodeFactory.openNode(data, { verifyThreads: 0 });
      try {
        const r = await rotateLogKey(node);
        if (o.json) printJson(r);
        else
          process.stdout.write(
            `log key rotated at index ${r.index}\n  old verifier key  ${r.oldVerifierKey}\n  new verifier key  ${r.newVerifierKey}\n`,
          );
      } finally {
        await node.close();
      }
    });
}
