/**
 * Reads a DICOM file with dcmtk's dcmdump (an implementation independent of ours) and returns
 * the top-level attributes plus the whole dump text (nested items included).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Dump {
  /** "(GGGG,EEEE)" upper-case → value ("" for empty, "<SQ>" for a sequence). Depth 0 only. */
  top: Map<string, string>;
  /** Every line of the dump, nested sequences included. */
  text: string;
}

const LINE = /^( *)\(([0-9a-f]{4}),([0-9a-f]{4})\) (\w\w) (.*?)\s+# +(\S+),/;

export async function dcmdump(path: string): Promise<Dump> {
  // -q quiet, -Un raw UID numbers, +L full values, -M skip loading pixel data.
  const { stdout } = await run("dcmdump", ["-q", "-Un", "+L", "-M", path], { maxBuffer: 64 * 1024 * 1024 });
  const top = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const m = LINE.exec(line);
    if (m === null || m[1] !== "") continue;
    const t = `(${m[2]!.toUpperCase()},${m[3]!.toUpperCase()})`;
    if (t.startsWith("(FFFE,")) continue;
    const raw = m[5]!;
    let value: string;
    if (m[4] === "SQ") value = "<SQ>";
    else if (raw.startsWith("(no value")) value = "";
    else if (raw.startsWith("[") && raw.endsWith("]")) value = raw.slice(1, -1);
    else value = raw; // numbers (US/UL…) and binary summaries
    top.set(t, value);
  }
  return { top, text: stdout };
}
