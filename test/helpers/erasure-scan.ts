/**
 * What an erasure must leave no trace of, and the byte scan that looks for it in every file of a data
 * directory (docs/security.md §Erasure and backups): the patient's texts (UTF-8), their raw data key
 * and its wrapped form. The key is found the way an attacker with the directory would find it: in
 * whichever SQLite file has a patient_keys table, unwrapped with the master key file beside it.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import Database from "better-sqlite3";
import { fileKeyWrap } from "../../src/adapters/node-crypto/key-wrap.js";
import { fromBase64 } from "../../src/core/bytes.js";
import { paths } from "../../src/app/data-dir.js";

export interface Needle {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Every regular file under `dir`, -wal and -shm files included. */
export function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** The patient's wrapped data key (from any SQLite file of the directory) and the key it wraps. */
export function patientKeyOf(dir: string, patient: string): { wrapped: Uint8Array; key: Uint8Array } {
  // Not the writer lock: a running node holds that database exclusively (src/adapters/sqlite/writer-lock.ts).
  const lock = paths(dir).lock;
  for (const file of filesUnder(dir).filter((f) => f.endsWith(".sqlite") && f !== lock)) {
    const db = new Database(file, { readonly: true });
    try {
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'patient_keys'").get();
      if (!table) continue;
      const row = db.prepare("SELECT wrapped FROM patient_keys WHERE patient = ?").get(patient) as
        { wrapped: Buffer } | undefined;
      if (!row) continue;
      const master = fromBase64(readFileSync(join(dir, "keys", "vault.master"), "utf8").trim());
      const wrapped = new Uint8Array(row.wrapped);
      return { wrapped, key: fileKeyWrap(master).unwrap(wrapped, `patient-key ${patient}`) };
    } finally {
      db.close();
    }
  }
  throw new Error(`no wrapped key for ${patient} under ${dir}`);
}

/** The needles of one patient: each text, the raw key and the wrapped key. */
export function needlesOf(texts: readonly string[], key: { wrapped: Uint8Array; key: Uint8Array }): Needle[] {
  return [
    ...texts.map((text, i) => ({ name: `text ${i + 1}`, bytes: Buffer.from(text, "utf8") })),
    { name: "data key", bytes: key.key },
    { name: "wrapped key", bytes: key.wrapped },
  ];
}

/** "file: needle" for every needle found in a file under `dir` (empty when the directory is clean). */
export function scanDataDir(dir: string, needles: readonly Needle[]): string[] {
  const found: string[] = [];
  for (const file of filesUnder(dir)) {
    const bytes = readFileSync(file);
    for (const n of needles)
      if (bytes.includes(Buffer.from(n.bytes))) found.push(`${relative(dir, file)}: ${n.name}`);
  }
  return found;
}

/** Seven report texts, each unique to this run so that no other file can hold them by chance. */
export const reportTexts = (who: string): string[] =>
  [
    "Findings: 14 mm spiculated nodule in the right upper lobe",
    "Impression: suspicious for primary lung malignancy",
    "Comparison: prior CT shows interval growth of the nodule",
    "Recommendation: PET-CT and multidisciplinary review",
    "Addendum: mediastinal lymph nodes not enlarged",
    "Technique: contrast-enhanced CT of the chest",
    "Break-glass justification: unconscious patient in resus",
  ].map((text) => `${text} [${who} ${randomUUID()}]`);
