/**
 * Test helper: an Orthanc to talk to. Uses RADLEDGER_TEST_ORTHANC_URL / _USER / _PASSWORD when
 * CI already started one (scripts/services/orthanc.sh DIR; source DIR/env), otherwise starts a
 * private one with the same script in a temporary directory and stops it afterwards.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const scripts = fileURLToPath(new URL("../../scripts/services/", import.meta.url));

export interface OrthancService {
  url: string;
  username: string;
  password: string;
  /** Stops the Orthanc this helper started (no-op for one given through the environment). */
  stop(): Promise<void>;
}

export async function orthancForTests(): Promise<OrthancService> {
  const e = process.env;
  if (e.RADLEDGER_TEST_ORTHANC_URL !== undefined && e.RADLEDGER_TEST_ORTHANC_URL !== "") {
    return {
      url: e.RADLEDGER_TEST_ORTHANC_URL,
      username: e.RADLEDGER_TEST_ORTHANC_USER ?? "",
      password: e.RADLEDGER_TEST_ORTHANC_PASSWORD ?? "",
      stop: () => Promise.resolve(),
    };
  }
  const dir = await mkdtemp(join(tmpdir(), "radledger-orthanc-"));
  await run("bash", [join(scripts, "orthanc.sh"), "--no-dicom", dir], { timeout: 180_000 });
  const env = new Map(
    (await readFile(join(dir, "env"), "utf8"))
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
  );
  return {
    url: env.get("RADLEDGER_TEST_ORTHANC_URL")!,
    username: env.get("RADLEDGER_TEST_ORTHANC_USER")!,
    password: env.get("RADLEDGER_TEST_ORTHANC_PASSWORD")!,
    stop: async () => {
      await run("bash", [join(scripts, "stop.sh"), dir], { timeout: 60_000 });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
