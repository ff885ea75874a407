/**
 * Transfer syntaxes the streaming parser understands (PS3.5 §10 and Annex A; UIDs in PS3.6
 * Table A-1).
 */

export const TS = {
  ImplicitVRLittleEndian: "1.2.840.10008.1.2",
  ExplicitVRLittleEndian: "1.2.840.10008.1.2.1",
  EncapsulatedUncompressedExplicitVRLittleEndian: "1.2.840.10008.1.2.1.98",
  DeflatedExplicitVRLittleEndian: "1.2.840.10008.1.2.1.99",
  /** Retired since 2004 (PS3.5 A.3 history) but still found in archives. */
  ExplicitVRBigEndian: "1.2.840.10008.1.2.2",
  RLELossless: "1.2.840.10008.1.2.5",
} as const;

export interface TransferSyntaxInfo {
  uid: string;
  littleEndian: boolean;
  explicitVR: boolean;
  /** The data set after the File Meta Information is a raw deflate stream (PS3.5 A.5). */
  deflated: boolean;
  /** Pixel Data is expected encapsulated (undefined length, items), PS3.5 A.4. */
  encapsulated: boolean;
  /** JPEG-family codestreams whose frames start with a recognisable marker (used to find
   * frame boundaries when neither offset table is present, PS3.5 A.4 Note). */
  frameMarkers: "jpeg" | "j2k" | null;
}

/** Returns undefined for a UID the parser does not know how to decode (e.g. a private one). */
export function transferSyntaxInfo(uid: string): TransferSyntaxInfo | undefined {
  const base = {
    uid,
    littleEndian: true,
    explicitVR: true,
    deflated: false,
    encapsulated: false,
    frameMarkers: null,
  };
  switch (uid) {
    case TS.ImplicitVRLittleEndian:
      return { ...base, explicitVR: false };
    case TS.ExplicitVRLittleEndian:
      return base;
    case TS.ExplicitVRBigEndian:
      return { ...base, littleEndian: false };
    case TS.DeflatedExplicitVRLittleEndian:
      return { ...base, deflated: true };
    case TS.RLELossless:
    case TS.EncapsulatedUncompressedExplicitVRLittleEndian:
      return { ...base, encapsulated: true };
    default:
      break;
  }
  // PS3.5 A.4: every compressed transfer syntax (JPEG, JPEG-LS, JPEG 2000, HTJ2K, JPIP, MPEG,
  // HEVC — all under 1.2.840.10008.1.2.4.) is Explicit VR Little Endian with encapsulated
  // Pixel Data.
  const compressed = /^1\.2\.840\.10008\.1\.2\.4\.(\d+)$/.exec(uid);
  if (compressed !== null) {
    const n = Number(compressed[1]);
    // 50–70: JPEG baseline/extended/lossless (ISO 10918); 80–81: JPEG-LS (ISO 14495), both
    // start each frame with SOI FFD8. 90–93 JPEG 2000 and 201–203 HTJ2K start with SOC FF4F.
    const frameMarkers =
      n >= 50 && n <= 81 ? "jpeg" : (n >= 90 && n <= 93) || (n >= 201 && n <= 203) ? "j2k" : null;
    return { ...base, encapsulated: true, frameMarkers };
  }
  return undefined;
}
