/**
 * A SoftHSM2 token in a temporary directory (docs/security.md §Keys): its own softhsm2.conf with
 * directories.tokendir inside the directory, so tests touch nothing outside it. SOFTHSM2_CONF is set
 * for this test process (and the CLI processes it starts), before the module is first loaded.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./node.js";

export const SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

export interface SoftHsm {
  readonly dir: string;
  readonly module: string;
  readonly token: string;
  readonly pin: string;
  readonly pinEnv: string;
  remove(): void;
}

export function softHsmToken(label = "radledger-test"): SoftHsm {
  const dir = tempDir("radledger-hsm-");
  const tokens = join(dir.path, "tokens");
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(dir.path, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  const pin = "246810";
  execFileSync(
    "softhsm2-util",
    ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "13579"],
    { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: "pipe" },
  );
  const pinEnv = "RADLEDGER_TEST_HSM_PIN";
  process.env[pinEnv] = pin;
  return { dir: dir.path, module: SOFTHSM_MODULE, token: label, pin, pinEnv, remove: () => dir.remove() };
}
