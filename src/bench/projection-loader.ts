/**
 * Fills a store's projections for query benchmarks by running the families' own `apply` functions
 * (the same code as the append path) on synthetic entries, without signatures and without storing the
 * entries: queries read projections only, and producing 1M grants through pre-signed appends would
 * measure the append path again. Used only by benchmarks.
 */
import type { CryptoSuite } from "../core/crypto.js";
import type { JsonObject } from "../core/canonical-json.js";
import { formatTime, type Entry } from "../core/entry.js";
import { RadledgerError, type ErrorCode, type ErrorDetails } from "../core/errors.js";
import type { ActorDoc, EntryTypeRegistry, ResolvedRef } from "../domain/ledger/entry-types.js";
import { StateLayer } from "../domain/ledger/state.js";
import type { LogStore } from "../ports/storage.js";

export interface SyntheticEntry {
  readonly type: string;
  readonly actor: ActorDoc;
  readonly body: JsonObject;
  readonly refs?: Record<string, ResolvedRef | ResolvedRef[]>;
}

export class ProjectionLoader {
  #index: number;
  #layer: StateLayer;
  #pending = 0;

  constructor(
    private readonly store: LogStore,
    private readonly crypto: CryptoSuite,
    private readonly registry: EntryTypeRegistry,
    private readonly origin: string,
    startIndex = 1_000_000_000,
  ) {
    this.#index = startIndex;
    this.#layer = new StateLayer(store);
  }

  /** Applies one synthetic entry; returns its id (a random leaf-hash-like hex) and index. */
  apply(e: SyntheticEntry): ResolvedRef {
    const def = this.registry.get(e.type);
    if (!def) throw new RadledgerError("ENTRY_UNKNOWN_TYPE", e.type);
    const index = this.#index++;
    const leafHash = Array.from(this.crypto.randomBytes(32), (b) => b.toString(16).padStart(2, "0")).join("");
    const refs = e.refs ?? {};
    const entry = {
      v: 1,
      type: e.type,
      time: formatTime(Date.now()),
      origin: this.origin,
      actor: e.actor.id,
      key: "0".repeat(32),
      body: e.body,
      sig: "",
    } as Entry;
    def.apply({
      entry,
      body: def.body.parse(e.body) as unknown,
      index,
      leafHash,
      actor: e.actor,
      origin: this.origin,
      crypto: this.crypto,
      state: this.#layer,
      ref: (name) => {
        const r = refs[name];
        if (!r || Array.isArray(r)) throw new RadledgerError("ENTRY_SCHEMA_INVALID", `missing ref ${name}`);
        return r;
      },
      refs: (name) => {
        const r = refs[name];
        return r === undefined ? [] : Array.isArray(r) ? r : [r];
      },
      reject: (code: ErrorCode, message: string, details?: ErrorDetails): never => {
        throw new RadledgerError(code, message, details);
      },
    });
    if (++this.#pending >= 5000) this.flush();
    return { name: "", index, leafHash, type: e.type };
  }

  flush(): void {
    if (this.#pending === 0) return;
    this.store.commit({ entries: [], tiles: [], mutations: this.#layer.mutations() });
    this.#layer = new StateLayer(this.store);
    this.#pending = 0;
  }
}
