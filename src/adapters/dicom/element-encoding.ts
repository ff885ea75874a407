/**
 * Data element encoding shared by the DICOM reader and writers (PS3.5 §7.1): tags, lengths and
 * headers in either byte order, Explicit or Implicit VR. The files are untrusted input to the
 * reader and our own output to the writers, so callers check value sizes; this only encodes.
 */

/** PS3.5 §7.1.2: VRs with a reserved 2 bytes and a 32-bit length in Explicit VR. */
export const LONG_VRS: ReadonlySet<string> = new Set([
  "OB",
  "OD",
  "OF",
  "OL",
  "OV",
  "OW",
  "SQ",
  "SV",
  "UC",
  "UN",
  "UR",
  "UT",
  "UV",
]);

/** A tag as "(GGGG,EEEE)", the form PS3.6 and PS3.15 Table E.1-1 use. */
export const hex = (t: number): string => {
  const s = t.toString(16).toUpperCase().padStart(8, "0");
  return `(${s.slice(0, 4)},${s.slice(4)})`;
};

export function u16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}

export function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
}

/** Group then element, each 16 bits (PS3.5 §7.1.1). */
export function tagBytes(t: number, le: boolean): Buffer {
  return Buffer.concat([u16(Math.floor(t / 0x10000), le), u16(t % 0x10000, le)]);
}

/** An element header: tag, VR (Explicit VR only) and value length (PS3.5 §7.1.1–7.1.3). */
export function elementHeader(
  t: number,
  vr: string,
  length: number,
  s: { readonly littleEndian: boolean; readonly explicitVR: boolean },
): Buffer {
  const le = s.littleEndian;
  if (!s.explicitVR) return Buffer.concat([tagBytes(t, le), u32(length, le)]);
  if (LONG_VRS.has(vr))
    return Buffer.concat([tagBytes(t, le), Buffer.from(vr, "latin1"), Buffer.alloc(2), u32(length, le)]);
  return Buffer.concat([tagBytes(t, le), Buffer.from(vr, "latin1"), u16(length, le)]);
}
