/**
 * Small typed client for the Orthanc REST API (checked against Orthanc 1.10.1, Debian 12), over
 * Node 20's global fetch with HTTP Basic authentication.
 *
 * PRIVACY: Orthanc resource IDs are SHA-1 hashes over the Patient ID and the DICOM UIDs
 * (https://orthanc.uclouvain.be/book/faq/orthanc-ids.html), so they identify the patient. They
 * are used here only to address Orthanc; they must never be written to the ledger unsalted, and
 * they are kept out of error messages (which name the route template, not the ID).
 *
 * Every failure is an OrthancError with a stable code:
 *   ORTHANC_UNAVAILABLE   network error, timeout, or 5xx
 *   ORTHANC_AUTH_FAILED   401 / 403
 *   ORTHANC_NOT_FOUND     404
 *   ORTHANC_BAD_REQUEST   other 4xx (e.g. uploading bytes that are not DICOM), or a malformed ID
 *   ORTHANC_BAD_RESPONSE  the answer does not have the documented shape
 */
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { z } from "zod";
import { OrthancError } from "../dicom/errors.js";

export interface OrthancClientOptions {
  /** e.g. http://127.0.0.1:8042 (no trailing slash needed). */
  baseUrl: string;
  username?: string;
  password?: string;
  /** Time allowed until the response headers arrive (and the JSON body is read). Default 30 s. */
  timeoutMs?: number;
}

/**
 * Change types of Orthanc 1.10 (EnumerationToString(ChangeType) in
 * OrthancServer/Sources/ServerEnumerations.cpp). Observed on 1.10.1: an upload emits
 * NewInstance/NewSeries/NewStudy/NewPatient, then StableSeries/StableStudy/StablePatient once
 * nothing arrived for StableAge seconds; /studies/{id}/anonymize emits the same New and Stable
 * changes for the new study but no AnonymizedStudy change; a duplicate upload emits nothing.
 */
export type OrthancChangeType =
  | "CompletedSeries"
  | "NewInstance"
  | "NewPatient"
  | "NewSeries"
  | "NewStudy"
  | "AnonymizedStudy"
  | "AnonymizedSeries"
  | "ModifiedStudy"
  | "ModifiedSeries"
  | "AnonymizedPatient"
  | "ModifiedPatient"
  | "StablePatient"
  | "StableStudy"
  | "StableSeries"
  | "Deleted"
  | "NewChildInstance"
  | "UpdatedAttachment"
  | "UpdatedMetadata"
  | (string & {});

const changeSchema = z.looseObject({
  ChangeType: z.string(),
  /** Local time of the Orthanc host, "YYYYMMDDTHHMMSS". */
  Date: z.string(),
  ID: z.string(),
  Path: z.string(),
  ResourceType: z.string(),
  Seq: z.number().int(),
});
const changesSchema = z.looseObject({
  Changes: z.array(changeSchema),
  /** true when there is nothing after Last (at the time of the call). */
  Done: z.boolean(),
  /** Seq of the last change returned (or the latest one when Changes is empty). */
  Last: z.number().int(),
});
export interface OrthancChange {
  ChangeType: OrthancChangeType;
  /** Local time of the Orthanc host, "YYYYMMDDTHHMMSS". */
  Date: string;
  /** Orthanc ID of the resource (identifying: see the module comment). */
  ID: string;
  Path: string;
  /** "Patient" | "Study" | "Series" | "Instance". */
  ResourceType: string;
  Seq: number;
}
export interface OrthancChanges {
  Changes: OrthancChange[];
  Done: boolean;
  Last: number;
}

const tags = z.record(z.string(), z.string());
const studySchema = z.looseObject({
  ID: z.string(),
  IsStable: z.boolean(),
  LastUpdate: z.string(),
  MainDicomTags: tags,
  ParentPatient: z.string(),
  PatientMainDicomTags: tags,
  Series: z.array(z.string()),
  Type: z.literal("Study"),
});
export type OrthancStudy = z.infer<typeof studySchema>;

const instanceSchema = z.looseObject({
  ID: z.string(),
  FileSize: z.number().int(),
  FileUuid: z.string(),
  IndexInSeries: z.number().int().nullable().optional(),
  MainDicomTags: tags,
  ParentSeries: z.string(),
  Type: z.literal("Instance"),
});
export type OrthancInstance = z.infer<typeof instanceSchema>;

const uploadSchema = z.looseObject({
  ID: z.string(),
  ParentPatient: z.string(),
  ParentSeries: z.string(),
  ParentStudy: z.string(),
  Path: z.string(),
  /** "AlreadyStored" for a duplicate, which creates no /changes entry (docs/design.md §8.2). */
  Status: z.string(),
});
export type OrthancUploadResult = z.infer<typeof uploadSchema>;

const anonymizeSchema = z.looseObject({
  ID: z.string(),
  Path: z.string(),
  PatientID: z.string(),
  Type: z.string(),
  InstancesCount: z.number().int().optional(),
  FailedInstancesCount: z.number().int().optional(),
});
export type OrthancAnonymizeResult = z.infer<typeof anonymizeSchema>;

const systemSchema = z.looseObject({
  Version: z.string(),
  ApiVersion: z.number().int(),
  Name: z.string(),
  DicomAet: z.string(),
});
export type OrthancSystem = z.infer<typeof systemSchema>;

export interface AnonymizeOptions {
  /**
   * Edition of PS3.15 Table E.1-1 whose Basic Profile Orthanc applies. "2021b" is the newest one
   * Orthanc 1.10 knows ("2017c" and "2008" also exist); anything else is refused with 400.
   */
  dicomVersion?: "2021b" | "2017c" | "2008";
  /** Tags (names or "gggg,eeee") to keep despite the profile. */
  keep?: string[];
  /** Tags to remove in addition. */
  remove?: string[];
  /** Tags to replace (tag → value), e.g. a trial subject ID for PatientID. */
  replace?: Record<string, string>;
  /** Default false: private attributes are removed, as Annex E requires (E.3.10 aside). */
  keepPrivateTags?: boolean;
  /** Default true: the source study stays in Orthanc. */
  keepSource?: boolean;
  /** Needed by Orthanc to replace/keep tags it protects (e.g. SOPInstanceUID). */
  force?: boolean;
}

const ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/;

function checkId(id: string): string {
  if (!ORTHANC_ID.test(id)) throw new OrthancError("ORTHANC_BAD_REQUEST", "malformed Orthanc resource ID");
  return id;
}

export class OrthancClient {
  private readonly baseUrl: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: OrthancClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.authorization =
      options.username === undefined
        ? undefined
        : `Basic ${Buffer.from(`${options.username}:${options.password ?? ""}`, "utf8").toString("base64")}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Sends one request; `route` is the template used in error messages (no IDs). Resolves once
   * the headers arrive with a 2xx status; the caller reads the body, then calls done().
   */
  private async request(
    method: string,
    path: string,
    route: string,
    init: { body?: Uint8Array | string; contentType?: string; accept?: string } = {},
  ): Promise<{ res: Response; done: () => void }> {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
    }, this.timeoutMs);
    const headers: Record<string, string> = { Accept: init.accept ?? "application/json" };
    if (this.authorization !== undefined) headers.Authorization = this.authorization;
    if (init.contentType !== undefined) headers["Content-Type"] = init.contentType;
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers,
        signal: controller.signal,
        ...(init.body !== undefined ? { body: bodyInit(init.body) } : {}),
      });
    } catch (err) {
      clearTimeout(timer);
      const timedOut = controller.signal.aborted;
      throw new OrthancError(
        "ORTHANC_UNAVAILABLE",
        timedOut ? `${route}: no answer within ${this.timeoutMs} ms` : `${route}: ${networkReason(err)}`,
        { cause: err },
      );
    }
    if (!res.ok) {
      clearTimeout(timer);
      // Orthanc describes errors as JSON {HttpStatus, OrthancError, OrthancStatus, Details, …}.
      // Only the fixed OrthancError label is kept: Details may quote request content.
      let label = "";
      try {
        const body: unknown = await res.json();
        if (typeof body === "object" && body !== null && "OrthancError" in body) {
          label = `: ${String(body.OrthancError)}`;
        }
      } catch {
        /* no JSON body */
      }
      const s = res.status;
      const code =
        s === 401 || s === 403
          ? "ORTHANC_AUTH_FAILED"
          : s === 404
            ? "ORTHANC_NOT_FOUND"
            : s >= 500
              ? "ORTHANC_UNAVAILABLE"
              : "ORTHANC_BAD_REQUEST";
      throw new OrthancError(code, `${route}: HTTP ${s}${label}`, { status: s });
    }
    return {
      res,
      done: () => {
        clearTimeout(timer);
      },
    };
  }

  private async json<T>(
    schema: z.ZodType<T>,
    method: string,
    path: string,
    route: string,
    init?: { body?: Uint8Array | string; contentType?: string },
  ): Promise<T> {
    const { res, done } = await this.request(method, path, route, init);
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new OrthancError("ORTHANC_BAD_RESPONSE", `${route}: body is not JSON`, {
        status: res.status,
        cause: err,
      });
    } finally {
      done();
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new OrthancError("ORTHANC_BAD_RESPONSE", `${route}: unexpected answer shape`, {
        status: res.status,
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  /** GET /system: version and identity of the server. */
  async system(): Promise<OrthancSystem> {
    return this.json(systemSchema, "GET", "/system", "GET /system");
  }

  /**
   * GET /changes?since=&limit=: the changes with Seq > since, oldest first, at most `limit`
   * (Orthanc 1.10.1 defaults to 100 when limit is omitted and honoured 1000 in our check). Reads
   * never appear here, and neither a duplicate store nor a DELETE creates a change.
   */
  async changes(since = 0, limit = 100): Promise<OrthancChanges> {
    if (!Number.isSafeInteger(since) || since < 0 || !Number.isSafeInteger(limit) || limit < 1) {
      throw new OrthancError("ORTHANC_BAD_REQUEST", "changes: since must be ≥ 0 and limit ≥ 1");
    }
    return await this.json(changesSchema, "GET", `/changes?since=${since}&limit=${limit}`, "GET /changes");
  }

  /** Seq of the latest change (GET /changes?last), to start following the feed from "now". */
  async lastChangeSeq(): Promise<number> {
    return (await this.json(changesSchema, "GET", "/changes?last", "GET /changes?last")).Last;
  }

  async study(id: string): Promise<OrthancStudy> {
    return this.json(studySchema, "GET", `/studies/${checkId(id)}`, "GET /studies/{id}");
  }

  async studyInstances(id: string): Promise<OrthancInstance[]> {
    return this.json(
      z.array(instanceSchema),
      "GET",
      `/studies/${checkId(id)}/instances`,
      "GET /studies/{id}/instances",
    );
  }

  /**
   * GET /instances/{id}/file as a Node stream of the DICOM file exactly as stored (Orthanc keeps
   * the uploaded bytes; the answer is application/dicom). Feed it to hashDicomStream.
   */
  async instanceFile(id: string): Promise<Readable> {
    const route = "GET /instances/{id}/file";
    const { res, done } = await this.request("GET", `/instances/${checkId(id)}/file`, route, {
      accept: "application/dicom",
    });
    done(); // the body may be large: the header timeout no longer applies
    if (res.body === null) throw new OrthancError("ORTHANC_BAD_RESPONSE", `${route}: empty body`);
    return Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
  }

  /** POST /instances with a DICOM Part 10 file; Status is "Success" or "AlreadyStored". */
  async uploadInstance(bytes: Uint8Array): Promise<OrthancUploadResult> {
    return this.json(uploadSchema, "POST", "/instances", "POST /instances", {
      body: bytes,
      contentType: "application/dicom",
    });
  }

  /**
   * POST /studies/{id}/anonymize, synchronously: a new study, de-identified per DICOM PS3.15
   * Annex E Basic Application Level Confidentiality Profile of the chosen edition (2021b by
   * default). No "Transcode" is requested, so Orthanc rewrites header attributes only and the
   * Pixel Data bytes stay identical (pixelDataSha256 unchanged, docs/design.md §8.1). New UIDs are
   * generated consistently within the call (the U action of Table E.1-1).
   */
  async anonymizeStudy(id: string, options: AnonymizeOptions = {}): Promise<OrthancAnonymizeResult> {
    const body: Record<string, unknown> = {
      DicomVersion: options.dicomVersion ?? "2021b",
      KeepPrivateTags: options.keepPrivateTags ?? false,
      KeepSource: options.keepSource ?? true,
      Synchronous: true,
    };
    if (options.keep !== undefined) body.Keep = options.keep;
    if (options.remove !== undefined) body.Remove = options.remove;
    if (options.replace !== undefined) body.Replace = options.replace;
    if (options.force !== undefined) body.Force = options.force;
    return this.json(
      anonymizeSchema,
      "POST",
      `/studies/${checkId(id)}/anonymize`,
      "POST /studies/{id}/anonymize",
      {
        body: JSON.stringify(body),
        contentType: "application/json",
      },
    );
  }

  /** DELETE /studies/{id} (its instances, series, and the patient if it becomes empty). */
  async deleteStudy(id: string): Promise<void> {
    const { res, done } = await this.request("DELETE", `/studies/${checkId(id)}`, "DELETE /studies/{id}");
    try {
      await res.arrayBuffer();
    } finally {
      done();
    }
  }
}

/** fetch's BodyInit wants ArrayBuffer-backed views; copy only a SharedArrayBuffer-backed one. */
function bodyInit(b: Uint8Array | string): BodyInit {
  if (typeof b === "string") return b;
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (cause !== undefined && typeof cause.code === "string") return `network error ${cause.code}`;
  return "network error";
}
