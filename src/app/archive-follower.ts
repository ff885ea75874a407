/**
 * An image archive as a study source (Orthanc today, src/adapters/orthanc/archive.ts): the node
 * follows the archive's change feed and registers each study once the archive reports it stable
 * (Orthanc: `StableStudy`, nothing arrived for `StableAge` seconds).
 *
 * Resuming without missing or duplicating a study: the feed position (the `Seq` of the last change
 * handled) is kept in the manifest store and advanced only after the change is fully handled — the
 * study's entry durable (the appender resolved) or the study found not registrable. A crash in between
 * replays the change, which is harmless because registration is idempotent (the study key is a
 * keyed pseudonym of the StudyInstanceUID: STUDY_ALREADY_REGISTERED → "already registered").
 * Orthanc itself creates no change for a duplicate store, and reads never appear in the feed
 * (docs/design.md §8.2), so the feed cannot replay a study on its own.
 *
 * Failures: Orthanc or the node unavailable (category "unavailable") stops the pass without moving
 * the cursor, so the change is retried; a study that cannot be registered (deleted meanwhile,
 * de-identified copy, inconsistent instances, …) is reported and the cursor moves on, so one bad
 * study cannot stall the feed.
 *
 * PRIVACY: Orthanc ids identify the patient (SHA-1 of Patient ID and UIDs); they stay in the node's
 * manifest store and are never printed, logged or put on the ledger.
 */
import { toRadledgerError, type RadledgerError } from "../core/errors.js";
import type {
  AiResultObject,
  ArchiveChange,
  DicomInstanceHashes,
  ImagingArchive,
  StagedInstance,
} from "../ports/imaging.js";
import { collectAiResult, recordAiResult, unreadable, type AiResultOutcome } from "./ai-results.js";
import type { RadledgerNode } from "./node.js";
import { registerStaged, toStaged, withStaging, type StudyOutcome } from "./register-study.js";

export interface FollowEvent {
  readonly seq: number;
  /** The study's key (st_ pseudonym) once known. */
  readonly studyKey?: string;
  readonly status: "registered" | "already-registered" | "skipped" | "failed";
  readonly outcome?: StudyOutcome;
  readonly error?: RadledgerError;
  /** Instances of the study that could not be hashed (codes only). */
  readonly instanceErrors?: string[];
  /** AI result objects (TID 1500 SR, SEG, Parametric Map) of the study: src/app/ai-results.ts. */
  readonly aiResults?: AiResultOutcome[];
}

export interface FollowerOptions {
  /** Label recorded as the entries' source name (default "orthanc"). */
  readonly name?: string;
  /** Feed key for the cursor (default: the archive's own, e.g. "orthanc <base URL>"). */
  readonly cursorKey?: string;
  /** With no cursor yet: start at the current end of the feed instead of its beginning. */
  readonly fromNow?: boolean;
  /** Instances downloaded and hashed at once (default 4). */
  readonly concurrency?: number;
  readonly onEvent?: (e: FollowEvent) => void;
}

export interface PassResult {
  /** Changes read in this pass. */
  readonly changes: number;
  readonly studies: FollowEvent[];
  /** Cursor after the pass. */
  readonly cursor: number;
}

export class ArchiveFollower {
  readonly #name: string;
  readonly #key: string;

  constructor(
    private readonly node: RadledgerNode,
    private readonly archive: ImagingArchive,
    private readonly options: FollowerOptions = {},
  ) {
    this.#name = options.name ?? "orthanc";
    this.#key = options.cursorKey ?? archive.feedKey;
  }

  private get store() {
    return this.node.manifests;
  }

  get cursor(): number | undefined {
    return this.store.cursor(this.#key);
  }

  /** Handles every change available now; resolves when the feed says Done. */
  async pass(): Promise<PassResult> {
    let seq = this.store.cursor(this.#key);
    if (seq === undefined) {
      seq = this.options.fromNow === true ? await this.archive.lastChangeSeq() : 0;
      this.store.setCursor(this.#key, seq);
    }
    const events: FollowEvent[] = [];
    let read = 0;
    for (;;) {
      const page = await this.archive.changes(seq, 100);
      for (const c of page.changes) {
        read++;
        if (c.kind === "study-stable") {
          const e = await this.handleStudy(c);
          events.push(e);
          this.options.onEvent?.(e);
        }
        // Durable before the next change is looked at (synchronous = FULL).
        this.store.setCursor(this.#key, c.seq);
        seq = c.seq;
      }
      if (page.changes.length === 0 && page.last > seq) {
        // Orthanc may answer an empty page with a later Last (changes pruned by MaximumStorage…).
        this.store.setCursor(this.#key, page.last);
        seq = page.last;
      }
      if (page.done || page.changes.length === 0) break;
    }
    return { changes: read, studies: events, cursor: seq };
  }

  /**
   * Follows the feed until the signal aborts, one pass every `intervalMs`. Transient failures
   * (Orthanc down) are reported and retried at the next pass.
   */
  async run(signal: AbortSignal, intervalMs: number, onError?: (e: RadledgerError) => void): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pass();
      } catch (e) {
        onError?.(toRadledgerError(e));
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- aborted during the await
      if (signal.aborted) break;
      // The poll interval of the feed (Orthanc has no push notification in its REST API).
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, intervalMs);
        signal.addEventListener(
          "abort",
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  private async handleStudy(c: ArchiveChange): Promise<FollowEvent> {
    let instances;
    try {
      instances = await this.archive.studyInstances(c.resourceId);
    } catch (e) {
      const err = toRadledgerError(e);
      if (err.category === "unavailable") throw err; // retried: the cursor stays before this change
      return { seq: c.seq, status: "skipped", error: err }; // e.g. deleted since it became stable
    }
    const staged: StagedInstance[] = [];
    const instanceErrors: string[] = [];
    // AI results (an AI platform stores them into the study it read: its StableStudy comes again)
    // are outputs, not the study's images: kept out of its manifest, recorded after it.
    const aiFound: { id: string; object: AiResultObject; sha256: string; bytes: number }[] = [];
    const aiFailed: AiResultOutcome[] = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < instances.length) {
        const instance = instances[next++]!;
        let h: DicomInstanceHashes;
        try {
          h = await this.node.dicom.hashStream(await this.archive.instanceFile(instance));
        } catch (e) {
          const err = toRadledgerError(e);
          if (err.category === "unavailable" && err.code !== "DICOM_IO") throw err;
          instanceErrors.push(err.code);
          continue;
        }
        let object: AiResultObject | null = null;
        if (this.node.dicom.mayBeAiResult(h.sopClassUid)) {
          // Read whole a second time only when its SOP class can be an AI result (small objects).
          // One whose content cannot be read is reported as a failed AI result, not made part of
          // the study's manifest, and does not keep the images from being registered.
          try {
            object = this.node.dicom.readAiResult(
              await collectAiResult(await this.archive.instanceFile(instance)),
            );
          } catch (e) {
            const err = toRadledgerError(e);
            if (err.category === "unavailable" && err.code !== "DICOM_IO") throw err;
            aiFailed.push(unreadable(this.node, h, err));
            continue;
          }
        }
        try {
          if (object !== null) aiFound.push({ id: instance, object, sha256: h.fileSha256, bytes: h.bytes });
          else staged.push(toStaged(this.node, h, null));
        } catch (e) {
          instanceErrors.push(toRadledgerError(e).code);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency ?? 4) }, lane));
    const keys = [...new Set(staged.map((s) => s.studyKey))];
    // A study is registered whole or not at all: a manifest missing instances would not match
    // the archive. De-identified copies (e.g. made for a trial) are not clinical studies.
    const fatal = instanceErrors.filter((code) => code !== "DICOM_DEIDENTIFIED");
    if (keys.length !== 1 || fatal.length > 0) {
      const aiResults = [...aiFailed, ...(fatal.length > 0 ? [] : await this.recordAi(aiFound))];
      return {
        seq: c.seq,
        status: fatal.length > 0 ? "failed" : "skipped",
        ...(instanceErrors.length > 0 ? { instanceErrors } : {}),
        ...(aiResults.length > 0 ? { aiResults } : {}),
      };
    }
    const studyKey = keys[0]!;
    const outcome = await withStaging(this.node, (store) => {
      store.dropStaged(studyKey);
      store.stageMany(staged);
      return registerStaged(this.node, store, studyKey, {
        kind: "pacs",
        name: this.#name,
        orthancId: c.resourceId,
      });
    });
    if (outcome.status === "failed" && outcome.error?.category === "unavailable") throw outcome.error;
    const aiResults = [...aiFailed, ...(await this.recordAi(aiFound))];
    return {
      seq: c.seq,
      studyKey,
      status: outcome.status,
      outcome,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(instanceErrors.length > 0 ? { instanceErrors } : {}),
      ...(aiResults.length > 0 ? { aiResults } : {}),
    };
  }

  /** One inference per AI result, in the archive's instance order (idempotent: a replay records nothing twice). */
  private async recordAi(found: { id: string; object: AiResultObject; sha256: string; bytes: number }[]) {
    const out: AiResultOutcome[] = [];
    found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const f of found)
      out.push(
        await recordAiResult(this.node, f.object, { sha256: f.sha256, bytes: f.bytes }, { name: this.#name }),
      );
    return out;
  }
}
