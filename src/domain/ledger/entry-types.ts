/**
 * How a record family declares its entries: one zod schema per body (shared by the append path, the
 * API and the CLI), the references it may carry and to which entry types, who may sign it, and the
 * rule-and-projection function that runs at append time. The append path calls `apply` inside the
 * batch transaction; a refusal is a thrown RadledgerError and leaves no trace (writes go to a
 * per-entry buffer that is dropped).
 */
import type { z } from "zod";
import type { CryptoSuite } from "../../core/crypto.js";
import type { Entry } from "../../core/entry.js";
import type { ErrorCode, ErrorDetails } from "../../core/errors.js";
import type { StateReader } from "../../ports/storage.js";
import type { StateStore } from "./state.js";

export interface RefSpec {
  /** Entry types the referenced entry may have. */
  readonly types: readonly string[];
  /** The reference is a non-empty list. */
  readonly many?: boolean;
  readonly optional?: boolean;
}

export interface ResolvedRef {
  readonly name: string;
  readonly index: number;
  readonly leafHash: string;
  readonly type: string;
}

export interface ActorDoc {
  readonly id: string;
  readonly kind: "institution" | "staff" | "patient" | "system";
  readonly roles: readonly string[];
  readonly status: "active" | "suspended";
  readonly [key: string]: unknown;
}

/** The actor that signs genesis with the log key, and every statement of the institution itself. */
export const INSTITUTION_ACTOR = "institution";

/** An enrolled key as the append path needs it: whose it is, the key itself, and whether it may sign. */
export interface EnrolledKey {
  readonly actor: string;
  /** Base64 Ed25519 public key. */
  readonly publicKey: string;
  readonly status: "active" | "retired" | "revoked";
  /** Log index at which the key stopped signing, when it did. */
  readonly endedAt?: number;
}

/**
 * How the append path learns who may sign: the identity family's projection, read through the
 * state the entry sees (committed state plus earlier entries of its batch). Given to the Ledger in
 * its options so that the engine does not depend on one family's document layout.
 */
export interface EnrolmentReader {
  key(state: StateReader, keyId: string): EnrolledKey | undefined;
  actor(state: StateReader, actorId: string): ActorDoc | undefined;
}

/**
 * Settings of the node that rules read at append (docs/families/access.md, "Break-glass policy"):
 * taken from the node's config.json and validated when the node starts.
 */
export interface AdmissionPolicy {
  /** Roles of which a staff actor must hold one to break the glass. */
  readonly breakGlassRoles: readonly string[];
}

export interface ApplyContext<B> {
  readonly entry: Entry;
  /**
   * true when the entry is stored history being admitted again — the whole-log audit's replay, a
   * peer's log being mirrored — rather than a new statement. Rules that tightened after an entry was
   * written (value sets, the node's policy) then accept what was valid when it was appended, so an
   * existing log keeps replaying; new appends get the current rules. Absent: a new append.
   */
  readonly replay?: boolean;
  /** The node's admission policy; absent: the defaults (src/domain/access/break-glass.ts). */
  readonly policy?: AdmissionPolicy;
  readonly body: B;
  /** Index this entry will have in the log. */
  readonly index: number;
  /** Its leaf hash (lowercase hex): the id of any record this entry creates. */
  readonly leafHash: string;
  readonly actor: ActorDoc;
  readonly origin: string;
  readonly crypto: CryptoSuite;
  /** Projection state as seen by this entry (committed state plus earlier entries of the batch). */
  readonly state: StateStore;
  /** The single reference `name` (throws if absent). */
  ref(name: string): ResolvedRef;
  /** All references under `name` (empty when absent). */
  refs(name: string): readonly ResolvedRef[];
  /** Refuses the entry with a coded error. */
  reject(code: ErrorCode, message: string, details?: ErrorDetails): never;
}

export interface EntryTypeDef<B = unknown> {
  readonly type: string;
  readonly summary: string;
  readonly body: z.ZodType<B>;
  readonly refs: Readonly<Record<string, RefSpec>>;
  /**
   * Roles of which the signing actor must hold at least one; "institution" is the log's own key
   * (genesis, gatekeeper records). An empty list admits any enrolled actor.
   */
  readonly signers: readonly string[];
  apply(ctx: ApplyContext<B>): void;
}

// The registry holds definitions of many body types; apply receives its own type's body.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous registry
export type AnyEntryTypeDef = EntryTypeDef<any>;

export function defineEntryType<S extends z.ZodType>(
  def: EntryTypeDef<z.infer<S>> & { body: S },
): AnyEntryTypeDef {
  return def;
}

export class EntryTypeRegistry {
  readonly #types = new Map<string, AnyEntryTypeDef>();

  constructor(defs: readonly AnyEntryTypeDef[]) {
    for (const def of defs) {
      if (this.#types.has(def.type)) throw new Error(`entry type ${def.type} defined twice`);
      this.#types.set(def.type, def);
    }
  }

  get(type: string): AnyEntryTypeDef | undefined {
    return this.#types.get(type);
  }

  all(): AnyEntryTypeDef[] {
    return [...this.#types.values()];
  }
}
