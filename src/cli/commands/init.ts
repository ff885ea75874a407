import type { Command } from "commander";
import { initDataDir } from "../../app/init.js";
import { nodeFactory } from "../../wiring/node.js";
import { printJson } from "../output.js";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("create a data directory: log key, institution genesis entry and a first admin actor")
    .requiredOption("--data <dir>", "data directory to create (must not exist or be empty)")
    .requiredOption(
      "--origin <origin>",
      "log origin, a schema-less URL such as radledger.example-hospital.org/log",
    )
    .option("--name <name>", "institution name shown in attributions (default: the origin)")
    .option("--admin <actor>", "actor id of the first administrator", "admin")
    .option("--json", "print the result as JSON")
    .action(async (o: { data: string; origin: string; name?: string; admin: string; json?: boolean }) => {
      const result = await initDataDir(
        o.data,
        {
          origin: o.origin,
          adminActor: o.admin,
          ...(o.name === undefined ? {} : { institutionName: o.name }),
        },
        nodeFactory,
      );
      if (o.json) {
        printJson(result);
        return;
      }
      process.stdout.write(
        `initialised ${result.dir}\n  origin        ${result.origin}\n  log size      ${result.size} (genesis + admin enrolment)\n  admin actor   ${result.adminActor} (key held in ${result.dir}/keys/actors)\n  verifier key  ${result.verifierKey}\n`,
      );
    });
}
