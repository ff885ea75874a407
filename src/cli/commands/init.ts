import type { Command } from "commander";
import { initDataDir } from "../../app/init.js";
import type { Pkcs11KeyRequest } from "../../app/node.js";
import { RadledgerError } from "../../core/errors.js";
import { nodeFactory } from "../../wiring/node.js";
import { printJson } from "../output.js";

interface InitCliOptions {
  data: string;
  origin: string;
  name?: string;
  admin: string;
  json?: boolean;
  keys: string;
  pkcs11Module?: string;
  pkcs11Token?: string;
  pinEnv?: string;
  pinFile?: string;
  logLabel?: string;
  vaultLabel?: string;
  witnessLabel?: string;
}

function pkcs11Request(o: InitCliOptions): Pkcs11KeyRequest | undefined {
  if (o.keys === "file") return undefined;
  if (o.keys !== "pkcs11")
    throw new RadledgerError("KEY_BACKEND_CONFIG_INVALID", "--keys is file (the default) or pkcs11");
  if (o.pkcs11Module === undefined || o.pkcs11Token === undefined)
    throw new RadledgerError("CLI_USAGE", "--keys pkcs11 needs --pkcs11-module and --pkcs11-token");
  if (o.pinEnv !== undefined && o.pinFile !== undefined)
    throw new RadledgerError("CLI_USAGE", "give --pin-env or --pin-file, not both");
  const labels = {
    ...(o.logLabel === undefined ? {} : { log: o.logLabel }),
    ...(o.vaultLabel === undefined ? {} : { vault: o.vaultLabel }),
    ...(o.witnessLabel === undefined ? {} : { witness: o.witnessLabel }),
  };
  return {
    module: o.pkcs11Module,
    token: o.pkcs11Token,
    ...(o.pinEnv === undefined ? {} : { pinEnv: o.pinEnv }),
    ...(o.pinFile === undefined ? {} : { pinFile: o.pinFile }),
    labels,
  };
}

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
    .option(
      "--keys <backend>",
      "where the log, witness and vault master keys live: file (in the data directory) or pkcs11 (an HSM; docs/security.md §Keys)",
      "file",
    )
    .option("--pkcs11-module <path>", "PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so")
    .option("--pkcs11-token <label>", "label of the token holding the keys")
    .option(
      "--pin-env <name>",
      "environment variable holding the token's user PIN (default RADLEDGER_HSM_PIN)",
    )
    .option("--pin-file <path>", "file holding the token's user PIN (instead of --pin-env)")
    .option(
      "--log-label <label>",
      "label of the log key on the token (default radledger-log; made if missing)",
    )
    .option(
      "--vault-label <label>",
      "label of the vault master key (default radledger-vault; made if missing)",
    )
    .option(
      "--witness-label <label>",
      "label of the witness key (default radledger-witness; made if missing)",
    )
    .option("--json", "print the result as JSON")
    .action(async (o: InitCliOptions) => {
      const pkcs11 = pkcs11Request(o);
      const result = await initDataDir(
        o.data,
        {
          origin: o.origin,
          adminActor: o.admin,
          ...(o.name === undefined ? {} : { institutionName: o.name }),
          ...(pkcs11 ? { pkcs11 } : {}),
        },
        nodeFactory,
      );
      if (o.json) {
        printJson(result);
        return;
      }
      process.stdout.write(
        `initialised ${result.dir}\n  origin        ${result.origin}\n  log size      ${result.size} (genesis + admin enrolment)\n  admin actor   ${result.adminActor} (key held in ${result.dir}/keys/actors)\n  keys          ${pkcs11 ? `PKCS#11 token ${pkcs11.token}` : "files in the data directory"}\n  verifier key  ${result.verifierKey}\n`,
      );
    });
}
