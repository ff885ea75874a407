/**
 * Alarms for the node's administrator: conditions a person must act on that no request is waiting
 * for — today an AI result that names a model the node does not know (docs/intake.md "AI results
 * from DICOM"): the AI platform runs a model nobody registered, or registered under another name.
 * Node-local, never on the ledger; the same condition raised again counts up instead of piling up.
 * PRIVACY: subjects and messages carry model names and pseudonyms, never a UID or a Patient ID.
 */
import type { ErrorCode } from "../core/errors.js";

export interface Alarm {
  readonly id: number;
  readonly code: ErrorCode;
  /** What the alarm is about (e.g. "model Acme AI / LungNodule / 2.1.0"): one alarm per code and subject. */
  readonly subject: string;
  readonly message: string;
  readonly firstAt: string;
  readonly lastAt: string;
  readonly count: number;
  /** An admin acknowledged it (it stays listed with the time). */
  readonly acknowledgedAt: string | null;
}

export interface AlarmStore {
  /** Raises (or counts up, and re-opens if acknowledged) the alarm for this code and subject. */
  raise(alarm: { code: ErrorCode; subject: string; message: string }, time: string): Alarm;
  /** Newest first; open ones only unless `all`. */
  list(options?: { all?: boolean; limit?: number }): Alarm[];
  acknowledge(id: number, time: string): Alarm | undefined;
  close(): void;
}
