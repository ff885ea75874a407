/**
 * Coded errors of the DICOM and Orthanc adapters.
 *
 * Every error carries a stable UPPER_SNAKE `code` that callers (CLI, HTTP problem responses,
 * tests) match on; messages are for humans and may change. They never include attribute values
 * read from a file (a Patient ID in an error message would leak PHI into logs, DESIGN §2.1 and
 * §5), only tags, offsets and lengths.
 *
 * Kept here for now; the lead moves them under the project-wide error base later.
 */

export type DicomErrorCode =
  /** No 128-byte preamble + "DICM" magic (PS3.10 §7.1): not a DICOM Part 10 file. */
  | "DICOM_NOT_PART10"
  /** The stream ended inside the preamble, an element header, a value or an open sequence. */
  | "DICOM_TRUNCATED"
  /** The transfer syntax is unknown to the parser (e.g. a private one). */
  | "DICOM_UNSUPPORTED_TRANSFER_SYNTAX"
  /** Structurally invalid encoding: bad item tags, lengths overrunning their container, … */
  | "DICOM_MALFORMED"
  /** A required attribute (SOP Instance UID, Study/Series Instance UID, …) is absent. */
  | "DICOM_MISSING_ATTRIBUTE"
  /** A limit meant to stop hostile input was hit (nesting depth, oversized header value). */
  | "DICOM_LIMIT_EXCEEDED"
  /** The file could not be read (permissions, vanished during the walk, …). */
  | "DICOM_IO";

export class DicomError extends Error {
  override readonly name = "DicomError";
  readonly code: DicomErrorCode;
  /** Byte offset in the (decoded) stream where the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(code: DicomErrorCode, message: string, options?: { offset?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.offset = options?.offset;
  }
}

export type OrthancErrorCode =
  /** Connection refused / reset / timed out, or a 5xx from Orthanc. */
  | "ORTHANC_UNAVAILABLE"
  /** 401 or 403: wrong credentials or the user may not do this. */
  | "ORTHANC_AUTH_FAILED"
  /** 404: unknown resource ID. */
  | "ORTHANC_NOT_FOUND"
  /** 400/415/other 4xx: Orthanc refused the request (e.g. a non-DICOM upload). */
  | "ORTHANC_BAD_REQUEST"
  /** The answer did not have the documented shape. */
  | "ORTHANC_BAD_RESPONSE";

export class OrthancError extends Error {
  override readonly name = "OrthancError";
  readonly code: OrthancErrorCode;
  /** HTTP status when Orthanc answered, undefined for network failures. */
  readonly status: number | undefined;

  constructor(code: OrthancErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options?.status;
  }
}
