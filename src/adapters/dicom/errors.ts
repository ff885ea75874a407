/**
 * Coded errors of the DICOM and Orthanc adapters.
 *
 * Every error carries a stable UPPER_SNAKE `code` that callers (CLI, HTTP problem responses,
 * tests) match on; messages are for humans and may change. They never include attribute values
 * read from a file (a Patient ID in an error message would leak PHI into logs, docs/design.md §2.1 and
 * §5.6), only tags, offsets and lengths.
 *
 * Both classes extend the project-wide RadledgerError, so the codes are in src/core/errors.ts
 * (with their category: HTTP status and CLI exit code) and in docs/errors.md.
 */
import { RadledgerError } from "../../core/errors.js";

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
  | "DICOM_IO"
  /** Instances of one study disagree (Patient ID, or one SOP Instance UID with other bytes). */
  | "DICOM_INCONSISTENT_STUDY"
  /** The instance is a de-identified copy (Patient Identity Removed = YES). */
  | "DICOM_DEIDENTIFIED";

export class DicomError extends RadledgerError {
  declare readonly code: DicomErrorCode;
  /** Byte offset in the (decoded) stream where the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(code: DicomErrorCode, message: string, options?: { offset?: number; cause?: unknown }) {
    super(
      code,
      message,
      options?.offset === undefined ? {} : { offset: options.offset },
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "DicomError";
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

export class OrthancError extends RadledgerError {
  declare readonly code: OrthancErrorCode;
  /** HTTP status when Orthanc answered, undefined for network failures. */
  readonly status: number | undefined;

  constructor(code: OrthancErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(
      code,
      message,
      options?.status === undefined ? {} : { orthancStatus: options.status },
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "OrthancError";
    this.status = options?.status;
  }
}
