/**
 * Projection state as the append path sees it: a write buffer layered over the committed store.
 * Each entry writes into its own layer; the layer is merged into the batch layer only if the entry
 * is admitted, so a refused entry leaves no trace. The batch layer becomes the list of mutations
 * committed with the entries in one transaction (docs/design.md §2.4: state is a projection of the log).
 */
import type { JsonObject } from "../../core/canonical-json.js";
import type {
  IndexRow,
  LookupOptions,
  StateMutation,
  StateReader,
  StoredEntry,
} from "../../ports/storage.js";

export interface StateStore extends StateReader {
  /** Documents are plain JSON-serialisable objects (no floats needed: projections count in integers). */
  putDoc(kind: string, id: string, doc: object): void;
  deleteDoc(kind: string, id: string): void;
  addIndex(name: string, key: string, seq: number, value: string): void;
  removeIndex(name: string, key: string, seq: number): void;
}

const docKey = (kind: string, id: string): string => `${kind}\u0000${id}`;
const indexKey = (name: string, key: string): string => `${name}\u0000${key}`;

export class StateLayer implements StateStore {
  readonly #docs = new Map<string, { kind: string; id: string; doc: JsonObject | undefined }>();
  readonly #indexes = new Map<string, { name: string; key: string; rows: Map<number, string | undefined> }>();
  /** Entries admitted in this batch, by leaf hash: later entries of the batch may read them. */
  readonly #entries = new Map<string, StoredEntry>();

  constructor(private readonly below: StateReader) {}

  entryByLeafHash(leafHash: string): StoredEntry | undefined {
    return this.#entries.get(leafHash) ?? this.below.entryByLeafHash(leafHash);
  }

  /** Records an entry admitted in this batch (not a mutation: the entry itself is committed). */
  addEntry(leafHash: string, entry: StoredEntry): void {
    this.#entries.set(leafHash, entry);
  }

  getDoc(kind: string, id: string): JsonObject | undefined {
    const hit = this.#docs.get(docKey(kind, id));
    if (hit) return hit.doc;
    return this.below.getDoc(kind, id);
  }

  lookup(name: string, key: string, options: LookupOptions = {}): IndexRow[] {
    const layer = this.#indexes.get(indexKey(name, key));
    if (!layer) return this.below.lookup(name, key, options);
    // Merge: rows below, minus removed ones, plus added ones; then apply cursor, order and limit.
    const merged = new Map<number, string>();
    for (const row of this.below.lookup(name, key, {})) merged.set(row.seq, row.value);
    for (const [seq, value] of layer.rows) {
      if (value === undefined) merged.delete(seq);
      else merged.set(seq, value);
    }
    let rows = [...merged].map(([seq, value]) => ({ seq, value })).sort((a, b) => a.seq - b.seq);
    if (options.reverse) rows.reverse();
    if (options.after !== undefined) {
      const after = options.after;
      rows = rows.filter((r) => (options.reverse ? r.seq < after : r.seq > after));
    }
    return options.limit === undefined ? rows : rows.slice(0, options.limit);
  }

  lookupValues(name: string, key: string): string[] {
    if (!this.#indexes.has(indexKey(name, key))) return this.below.lookupValues(name, key);
    return this.lookup(name, key).map((r) => r.value);
  }

  putDoc(kind: string, id: string, doc: object): void {
    this.#docs.set(docKey(kind, id), { kind, id, doc: doc as JsonObject });
  }

  deleteDoc(kind: string, id: string): void {
    this.#docs.set(docKey(kind, id), { kind, id, doc: undefined });
  }

  addIndex(name: string, key: string, seq: number, value: string): void {
    this.indexLayer(name, key).rows.set(seq, value);
  }

  removeIndex(name: string, key: string, seq: number): void {
    this.indexLayer(name, key).rows.set(seq, undefined);
  }

  /** Moves this layer's writes into `target` (another layer), then forgets them. */
  mergeInto(target: StateStore): void {
    for (const { kind, id, doc } of this.#docs.values()) {
      if (doc === undefined) target.deleteDoc(kind, id);
      else target.putDoc(kind, id, doc);
    }
    for (const { name, key, rows } of this.#indexes.values()) {
      for (const [seq, value] of rows) {
        if (value === undefined) target.removeIndex(name, key, seq);
        else target.addIndex(name, key, seq, value);
      }
    }
    this.clear();
  }

  /** The writes of this layer as store mutations, in a deterministic order. */
  mutations(): StateMutation[] {
    const out: StateMutation[] = [];
    for (const { kind, id, doc } of this.#docs.values()) {
      out.push(doc === undefined ? { op: "delete", kind, id } : { op: "put", kind, id, doc });
    }
    for (const { name, key, rows } of this.#indexes.values()) {
      for (const [seq, value] of rows) {
        out.push(
          value === undefined ? { op: "unindex", name, key, seq } : { op: "index", name, key, seq, value },
        );
      }
    }
    return out;
  }

  clear(): void {
    this.#docs.clear();
    this.#indexes.clear();
    this.#entries.clear();
  }

  private indexLayer(
    name: string,
    key: string,
  ): { name: string; key: string; rows: Map<number, string | undefined> } {
    const k = indexKey(name, key);
    let layer = this.#indexes.get(k);
    if (!layer) {
      layer = { name, key, rows: new Map() };
      this.#indexes.set(k, layer);
    }
    return layer;
  }
}

/**
 * A read-through cache of committed documents of a few hot kinds (keys and actors: every admission
 * reads both). It only ever holds committed state: the ledger feeds it each batch's mutations after
 * the batch is durable.
 */
export class DocCache implements StateReader {
  readonly #cache = new Map<string, JsonObject | null>();

  constructor(
    private readonly below: StateReader,
    private readonly kinds: ReadonlySet<string>,
    private readonly max = 200_000,
  ) {}

  getDoc(kind: string, id: string): JsonObject | undefined {
    if (!this.kinds.has(kind)) return this.below.getDoc(kind, id);
    const key = docKey(kind, id);
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const doc = this.below.getDoc(kind, id);
    if (this.#cache.size >= this.max) this.#cache.clear();
    this.#cache.set(key, doc ?? null);
    return doc;
  }

  lookup(name: string, key: string, options?: LookupOptions): IndexRow[] {
    return this.below.lookup(name, key, options);
  }

  lookupValues(name: string, key: string): string[] {
    return this.below.lookupValues(name, key);
  }

  entryByLeafHash(leafHash: string): StoredEntry | undefined {
    return this.below.entryByLeafHash(leafHash);
  }

  /** Brings cached documents up to date with a committed batch. */
  committed(mutations: readonly StateMutation[]): void {
    for (const m of mutations) {
      if ((m.op === "put" || m.op === "delete") && this.kinds.has(m.kind)) {
        this.#cache.set(docKey(m.kind, m.id), m.op === "put" ? m.doc : null);
      }
    }
  }
}
