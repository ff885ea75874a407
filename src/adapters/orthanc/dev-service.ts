// An Orthanc (with the DICOMweb plugin) for tests, benchmarks and the docs walkthrough: the one named
// by RADLEDGER_TEST_ORTHANC_URL / _USER / _PASSWORD if set (CI starts one with
// scripts/services/orthanc.sh DIR), otherwise a private one started with that same script in a
// temporary directory (random ports, temporary storage, its own configuration) and stopped with
// scripts/services/stop.sh (by PID). Development tooling only, like ../evm/dev-node.ts: nothing in
// the node imports it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
// src/adapters/orthanc and dist/adapters/orthanc are both three levels below the repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface OrthancService {
  url: string;
  username: string;
  password: string;
  /** Stops the Orthanc this started (no-op for one given through the environment). */
  stop(): Promise<void>;
}

/**
 * The authorization plugin (plugins/orthanc/radledger_authz.py) asking the node at `nodeUrl` with the
 * bearer token in `tokenFile`: always a private Orthanc (the CI's has no plugin). Its user and
 * password are then the plugin's service account, let through without asking the node.
 */
export interface OrthancAuthzOptions {
  readonly nodeUrl: string;
  readonly tokenFile: string;
  readonly cacheSeconds?: number;
  readonly denyCacheSeconds?: number;
  readonly timeoutSeconds?: number;
}

/**
 * `private`: start one even when RADLEDGER_TEST_ORTHANC_URL names one (a benchmark comparing two
 * Orthancs of the same build and configuration).
 */
export async function startOrthancService(
  options: { authz?: OrthancAuthzOptions | undefined; private?: boolean } = {},
): Promise<OrthancService> {
  const e = process.env;
  const authz = options.authz;
  const args =
    authz === undefined
      ? []
      : [
          "--authz-node",
          authz.nodeUrl,
          "--authz-token-file",
          authz.tokenFile,
          ...(authz.cacheSeconds === undefined ? [] : ["--authz-cache", String(authz.cacheSeconds)]),
          ...(authz.denyCacheSeconds === undefined
            ? []
            : ["--authz-deny-cache", String(authz.denyCacheSeconds)]),
          ...(authz.timeoutSeconds === undefined ? [] : ["--authz-timeout", String(authz.timeoutSeconds)]),
        ];
  if (
    authz === undefined &&
    options.private !== true &&
    e.RADLEDGER_TEST_ORTHANC_URL !== undefined &&
    e.RADLEDGER_TEST_ORTHANC_URL !== ""
  ) {
    return {
      url: e.RADLEDGER_TEST_ORTHANC_URL,
      username: e.RADLEDGER_TEST_ORTHANC_USER ?? "",
      password: e.RADLEDGER_TEST_ORTHANC_PASSWORD ?? "",
      stop: () => Promise.resolve(),
    };
  }
  const dir = await mkdtemp(join(tmpdir(), "radledger-orthanc-"));
  const stop = async (): Promise<void> => {
    await run("bash", [join(root, "scripts/services/stop.sh"), dir], { timeout: 60_000 });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run("bash", [join(root, "scripts/services/orthanc.sh"), "--no-dicom", ...args, dir], {
      timeout: 180_000,
    });
    const env = new Map(
      (await readFile(join(dir, "env"), "utf8"))
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
    );
    const url = env.get("RADLEDGER_TEST_ORTHANC_URL");
    if (!url) throw new Error(`no RADLEDGER_TEST_ORTHANC_URL in ${dir}/env`);
    return {
      url,
      username: env.get("RADLEDGER_TEST_ORTHANC_USER") ?? "",
      password: env.get("RADLEDGER_TEST_ORTHANC_PASSWORD") ?? "",
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
