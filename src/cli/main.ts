#!/usr/bin/env node
/**
 * The radledger command line: one verb per task, `--help` on each, JSON with --json, exit codes by
 * error category (docs/errors.md).
 */
import { Command, CommanderError } from "commander";
import { registerInit } from "./commands/init.js";
import { registerKey } from "./commands/key.js";
import { registerServe } from "./commands/serve.js";
import { registerVerify } from "./commands/verify.js";
import { registerDemo } from "./commands/demo.js";
import { registerExport } from "./commands/export.js";
import { registerQuery } from "./commands/query.js";
import { registerErase } from "./commands/erase.js";
import { registerBench } from "./commands/bench.js";
import { EXIT_BY_CATEGORY, reportError } from "./output.js";

const program = new Command()
  .name("radledger")
  .description(
    "A permissioned provenance ledger for radiology: a verifiable transparency log of signed entries.",
  )
  .version("0.1.0")
  .showHelpAfterError()
  .exitOverride();

registerInit(program);
registerServe(program);
registerKey(program);
registerVerify(program);
registerDemo(program);
registerExport(program);
registerQuery(program);
registerErase(program);
registerBench(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version exit 0 through here; usage errors were already printed by commander.
    process.exitCode = e.exitCode === 0 ? 0 : EXIT_BY_CATEGORY.invalid;
  } else {
    process.exitCode = reportError(e, process.argv.includes("--json"));
  }
}
