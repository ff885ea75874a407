#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=4194304 node --max-semi-space-size=4 --heap-growing-percent=10
/**
 * The radledger command line: one verb per task, `--help` on each, JSON with --json, exit codes by
 * error category (docs/errors.md).
 */
import { Command, CommanderError } from "commander";
import { EXIT_BY_CATEGORY, reportError } from "./output.js";
import { dataFromEnvironment } from "./data-env.js";

type Register = (program: Command) => void;

/**
 * The verbs, in the order `--help` lists them, each with the modules that define it. A run loads only
 * its verb's modules: `radledger verify BUNDLE` does not load the HTTP server, the EVM client or the
 * DICOM stack (together ≈ 0.4 s of start-up). Help, --version and unknown verbs load them all.
 */
const VERBS: readonly (readonly [string, () => Promise<Register[]>])[] = [
  ["init", async () => [(await import("./commands/init.js")).registerInit]],
  ["serve", async () => [(await import("./commands/serve.js")).registerServe]],
  ["key", async () => [(await import("./commands/key.js")).registerKey]],
  ["verify", async () => [(await import("./commands/verify.js")).registerVerify]],
  ["demo", async () => [(await import("./commands/demo.js")).registerDemo]],
  ["token", async () => [(await import("./commands/token.js")).registerToken]],
  [
    "actor",
    async () => [
      (await import("./commands/actor.js")).registerActor,
      // attaches `actor enrolment-code` to the `actor` verb above
      (await import("./commands/enrolment-code.js")).registerEnrolmentCode,
    ],
  ],
  ["consent", async () => [(await import("./commands/consent.js")).registerConsent]],
  ["access", async () => [(await import("./commands/access.js")).registerAccess]],
  ["ingest", async () => [(await import("./commands/ingest.js")).registerIngest]],
  ["orthanc", async () => [(await import("./commands/orthanc.js")).registerOrthanc]],
  ["alarms", async () => [(await import("./commands/alarms.js")).registerAlarms]],
  ["deidentify", async () => [(await import("./commands/deidentify.js")).registerDeidentify]],
  [
    "export",
    async () => [
      (await import("./commands/export.js")).registerExport,
      // attaches `export fhir` to the `export` verb above
      (await import("./commands/export-fhir.js")).registerExportFhir,
    ],
  ],
  ["query", async () => [(await import("./commands/query/index.js")).registerQuery]],
  ["erase", async () => [(await import("./commands/erase.js")).registerErase]],
  ["backup", async () => [(await import("./commands/backup.js")).registerBackup]],
  ["restore", async () => [(await import("./commands/backup.js")).registerRestore]],
  ["bench", async () => [(await import("./commands/bench.js")).registerBench]],
  ["consortium", async () => [(await import("./commands/consortium.js")).registerConsortium]],
  ["anchor", async () => [(await import("./commands/anchor.js")).registerAnchor]],
];

const program = new Command()
  .name("radledger")
  .description(
    "A permissioned provenance ledger for radiology: a verifiable transparency log of signed entries.",
  )
  .version("0.1.0")
  .showHelpAfterError()
  .exitOverride();

const verb = VERBS.find(([name]) => name === process.argv[2]);
for (const [, load] of verb ? [verb] : VERBS) for (const register of await load()) register(program);
dataFromEnvironment(program);

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
