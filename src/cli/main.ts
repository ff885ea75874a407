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
import { registerToken } from "./commands/token.js";
import { registerIngest } from "./commands/ingest.js";
import { registerOrthanc } from "./commands/orthanc.js";
import { registerDeidentify } from "./commands/deidentify.js";
import { registerExportFhir } from "./commands/export-fhir.js";
import { registerExport } from "./commands/export.js";
import { registerQuery } from "./commands/query.js";
import { registerErase } from "./commands/erase.js";
import { registerBench } from "./commands/bench.js";
import { registerConsortium } from "./commands/consortium.js";
import { registerAnchor } from "./commands/anchor.js";
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
registerToken(program);
registerIngest(program);
registerOrthanc(program);
registerDeidentify(program);

registerExport(program);
registerExportFhir(program); // attaches `export fhir` to the `export` verb above
registerQuery(program);
registerErase(program);
registerBench(program);
registerConsortium(program);
registerAnchor(program);

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
