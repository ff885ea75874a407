/**
 * Access projection (docs/families/access.md): documents `access/<id>` (one per recorded decision,
 * with the review of a break-glass permit); indexes `access.patient`, `access.actor` and the
 * break-glass review queue (BREAK_GLASS_QUEUE).
 */
import type { StateReader } from "../../ports/storage.js";
import type { AccessAction } from "../consent/entries.js";
import type { AccessRecordedBody } from "./entries.js";

export interface AccessReview {
  readonly open: boolean;
  readonly outcome?: "justified" | "unjustified" | "escalated";
  readonly by?: string;
  readonly at?: string;
  readonly id?: string;
  readonly index?: number;
  readonly noteCommitment?: string;
}

export interface AccessDoc {
  readonly id: string;
  readonly index: number;
  readonly time: string;
  readonly actor: string;
  readonly patient: string;
  readonly part: AccessRecordedBody["part"];
  readonly action: AccessAction;
  readonly purpose: AccessRecordedBody["purpose"];
  readonly decision: "permit" | "deny";
  readonly basis?: {
    readonly kind: "patient" | "consent" | "care" | "role" | "break-glass";
    /** Basis role: the role the actor read under. */
    readonly role?: string;
    readonly grant?: string;
    readonly care?: string;
    readonly reason?: string;
    readonly reasonCommitment?: string;
  };
  readonly reason?: string;
  readonly context?: AccessRecordedBody["context"];
  /** The request the access was decided in (BALP transaction; address for staff and systems only). */
  readonly transaction?: AccessRecordedBody["transaction"];
  /** Break-glass permits only. */
  readonly review?: AccessReview;
}

export const BREAK_GLASS_QUEUE = "access.breakglass.open";

export function getAccess(state: StateReader, id: string): AccessDoc | undefined {
  return state.getDoc("access", id) as AccessDoc | undefined;
}
