/**
 * Synthetic DICOM for the DICOM benchmarks (dicom.ts, dicomweb.ts) and what they share: Explicit VR
 * Little Endian CT instances (PS3.10) written by code, with synthetic patient tags and random 16-bit
 * pixels — never real patient data.
 */
import { createHash, randomFillSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const ORIGIN = "radledger.bench.example/log";
export const round2 = (x: number): number => Math.round(x * 100) / 100;

// --- synthetic data ---------------------------------------------------------------------------

function el(group: number, element: number, vr: string, value: Buffer): Buffer {
  const long = ["OB", "OW", "SQ", "UN", "UT"].includes(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.write(vr, 4, "latin1");
  if (long) h.writeUInt32LE(value.length, 8);
  else h.writeUInt16LE(value.length, 6);
  return Buffer.concat([h, value]);
}
const str = (s: string, pad = " "): Buffer => Buffer.from(s.length % 2 === 0 ? s : s + pad, "latin1");
const us = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
export const uid = (label: string): string =>
  `2.25.${BigInt("0x" + createHash("sha256").update(`radledger-bench\0${label}`).digest("hex").slice(0, 30)).toString()}`;

/** One Explicit VR LE CT instance (PS3.10), synthetic patient tags, random 16-bit pixels. */
export function syntheticInstance(o: {
  study: number;
  series: number;
  instance: number;
  rows: number;
  columns: number;
}): Buffer {
  const sop = uid(`i/${o.study}/${o.series}/${o.instance}`);
  const meta = Buffer.concat([
    el(0x0002, 0x0001, "OB", Buffer.from([0, 1])),
    el(0x0002, 0x0002, "UI", str("1.2.840.10008.5.1.4.1.1.2", "\0")),
    el(0x0002, 0x0003, "UI", str(sop, "\0")),
    el(0x0002, 0x0010, "UI", str("1.2.840.10008.1.2.1", "\0")),
  ]);
  const pixels = Buffer.allocUnsafe(o.rows * o.columns * 2);
  randomFillSync(pixels);
  const ds = Buffer.concat([
    el(0x0008, 0x0016, "UI", str("1.2.840.10008.5.1.4.1.1.2", "\0")),
    el(0x0008, 0x0018, "UI", str(sop, "\0")),
    el(0x0008, 0x0050, "SH", str(`ACC${o.study}`)),
    el(0x0008, 0x0060, "CS", str("CT")),
    el(0x0010, 0x0010, "PN", str(`SYNTHETIC^BENCH^${o.study}`)),
    el(0x0010, 0x0020, "LO", str(`BENCH${String(o.study).padStart(6, "0")}`)),
    el(0x0010, 0x0030, "DA", str("19700101")),
    el(0x0018, 0x0015, "CS", str("CHEST")),
    el(0x0020, 0x000d, "UI", str(uid(`st/${o.study}`), "\0")),
    el(0x0020, 0x000e, "UI", str(uid(`se/${o.study}/${o.series}`), "\0")),
    el(0x0020, 0x0013, "IS", str(String(o.instance))),
    el(0x0028, 0x0002, "US", us(1)),
    el(0x0028, 0x0004, "CS", str("MONOCHROME2")),
    el(0x0028, 0x0010, "US", us(o.rows)),
    el(0x0028, 0x0011, "US", us(o.columns)),
    el(0x0028, 0x0100, "US", us(16)),
    el(0x0028, 0x0101, "US", us(12)),
    el(0x0028, 0x0102, "US", us(11)),
    el(0x0028, 0x0103, "US", us(0)),
    el(0x7fe0, 0x0010, "OW", pixels),
  ]);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(meta.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from("DICM"), el(0x0002, 0x0000, "UL", gl), meta, ds]);
}

/**
 * Writes studies of `seriesPerStudy` × `perSeries` 512×512 instances (≈ 513 KiB each) until
 * `targetBytes`; one file at a time, so memory stays flat.
 */
export function writeSyntheticFolder(
  dir: string,
  targetBytes: number,
  seriesPerStudy = 4,
  perSeries = 100,
): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (let n = 0; bytes < targetBytes; n++) {
    const study = Math.floor(n / (seriesPerStudy * perSeries));
    const series = Math.floor(n / perSeries) % seriesPerStudy;
    const instance = n % perSeries;
    const sub = join(dir, `study-${study}`, `series-${series}`);
    if (instance === 0) mkdirSync(sub, { recursive: true });
    const b = syntheticInstance({ study, series, instance, rows: 512, columns: 512 });
    writeFileSync(join(sub, `${instance}.dcm`), b);
    files++;
    bytes += b.length;
  }
  return { files, bytes };
}
