/**
 * Orthanc as a study source (issue 5 §3): the node follows Orthanc's `/changes` feed and registers
 * each study once Orthanc reports it stable (`StableStudy`: nothing arrived for `StableAge` seconds).
 *
 * Resuming without missing or duplicating a study: the feed position (the `Seq` of the last change
 * handled) is kept in the manifest store and advanced only after the change is fully handled — the
 * study's entry durable (appendOne resolved) or the study found not registrable. A crash in between
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
import { hashDicomStream } from "../adapters/dicom/hasher.js";
import type { OrthancChange, OrthancClient } from "../adapters/orthanc/client.js";
import type { ManifestStore, StagedInstance } from "../adapters/sqlite/manifest-store.js";
import { toRadledgerError, type RadledgerError } from "../core/errors.js";
import type { RadledgerNode } from "./node.js";
import { registerStaged, toStaged, type StudyOutcome } from "./register-study.js";

export interface FollowEvent {
  readonly seq: number;
  /** The study's key (st_ pseudonym) once known. */
  readonly studyKey?: string;
  readonly status: "registered" | "already-registered" | "skipped" | "failed";
  readonly outcome?: StudyOutcome;
  readonly error?: RadledgerError;
  /** Instances of the study that could not be hashed (codes only). */
  readonly instanceErrors?: string[];
}

export interface FollowerOptions {
  /** Label recorded as the entries' source name (default "orthanc"). */
  readonly name?: string;
  /** Feed key for the cursor (default: the Orthanc base URL). */
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

export class OrthancFollower {
  readonly #name: string;
  readonly #key: string;

  constructor(
    private readonly node: RadledgerNode,
    private readonly client: OrthancClient,
    private readonly store: ManifestStore,
    private readonly options: FollowerOptions & { baseUrl: string },
  ) {
    this.#name = options.name ?? "orthanc";
    this.#key = options.cursorKey ?? `orthanc ${options.baseUrl.replace(/\/+$/, "")}`;
  }

  get cursor(): number | undefined {
    return this.store.cursor(this.#key);
  }

  /** Handles every change available now; resolves when the feed says Done. */
  async pass(): Promise<PassResult> {
    let seq = this.store.cursor(this.#key);
    if (seq === undefined) {
      seq = this.options.fromNow === true ? await this.client.lastChangeSeq() : 0;
      this.store.setCursor(this.#key, seq);
    }
    const events: FollowEvent[] = [];
    let read = 0;
    for (;;) {
      const page = await this.client.changes(seq, 100);
      for (const c of page.Changes) {
        read++;
        if (c.ChangeType === "StableStudy" && c.ResourceType === "Study") {
          const e = await this.handleStudy(c);
          events.push(e);
          this.options.onEvent?.(e);
        }
        // Durable before the next change is looked at (synchronous = FULL).
        this.store.setCursor(this.#key, c.Seq);
        seq = c.Seq;
      }
      if (page.Changes.length === 0 && page.Last > seq) {
        // Orthanc may answer an empty page with a later Last (changes pruned by MaximumStorage…).
        this.store.setCursor(this.#key, page.Last);
        seq = page.Last;
      }
      if (page.Done || page.Changes.length === 0) break;
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

  private async handleStudy(c: OrthancChange): Promise<FollowEvent> {
    let instances;
    try {
      instances = await this.client.studyInstances(c.ID);
    } catch (e) {
      const err = toRadledgerError(e);
      if (err.category === "unavailable") throw err; // retried: the cursor stays before this change
      return { seq: c.Seq, status: "skipped", error: err }; // e.g. deleted since it became stable
    }
    const staged: StagedInstance[] = [];
    const instanceErrors: string[] = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < instances.length) {
        const inst = instances[next++]!;
        try {
          const h = await hashDicomStream(await this.client.instanceFile(inst.ID));
          staged.push(toStaged(this.node, h, null));
        } catch (e) {
          const err = toRadledgerError(e);
          if (err.category === "unavailable" && err.code !== "DICOM_IO") throw err;
          instanceErrors.push(err.code);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency ?? 4) }, lane));
    const keys = [...new Set(staged.map((s) => s.studyKey))];
    // A study is registered whole or not at all: a manifest missing instances would not match
    // the archive. De-identified copies (e.g. made for a trial) are not clinical studies.
    const fatal = instanceErrors.filter((code) => code !== "DICOM_DEIDENTIFIED");
    if (keys.length !== 1 || fatal.length > 0) {
      return {
        seq: c.Seq,
        status: fatal.length > 0 ? "failed" : "skipped",
        ...(instanceErrors.length > 0 ? { instanceErrors } : {}),
      };
    }
    const studyKey = keys[0]!;
    this.store.dropStaged(studyKey);
    this.store.stageMany(staged);
    const outcome = await registerStaged(this.node, this.store, studyKey, {
      kind: "pacs",
      name: this.#name,
      orthancId: c.ID,
    });
    if (outcome.status === "failed" && outcome.error?.category === "unavailable") throw outcome.error;
    return {
      seq: c.Seq,
      studyKey,
      status: outcome.status,
      outcome,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(instanceErrors.length > 0 ? { instanceErrors } : {}),
    };
  }
}
