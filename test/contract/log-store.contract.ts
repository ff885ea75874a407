/**
 * The storage contract every LogStore adapter must satisfy (src/ports/storage.ts). Each adapter's
 * test file calls runLogStoreContract with a factory; the same assertions then hold for all of them.
 */
import { afterEach, describe, expect, test } from "vitest";
import { RadledgerError } from "../../src/core/errors.js";
import type { CommitBatch, LogStore, NewEntry } from "../../src/ports/storage.js";

export interface StoreFactory {
  /** A new empty store. */
  create(): LogStore;
  /** The same store reopened, if the adapter is persistent. */
  reopen?(store: LogStore): LogStore;
  cleanup(): void;
}

const enc = new TextEncoder();
const hash = (n: number): Uint8Array =>
  new Uint8Array(32).fill(n % 256).map((v, i) => (i === 0 ? Math.floor(n / 256) : v));

function entries(start: number, count: number, refs: { name: string; target: number }[] = []): NewEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    index: start + i,
    leafHash: hash(start + i + 1),
    type: (start + i) % 2 === 0 ? "test.even" : "test.odd",
    bytes: enc.encode(`{"n":${start + i}}`),
    refs,
  }));
}

function batch(start: number, count: number, extra: Partial<CommitBatch> = {}): CommitBatch {
  return {
    entries: entries(start, count),
    tiles: [],
    mutations: [],
    checkpoint: { size: start + count, note: `note ${start + count}\n` },
    ...extra,
  };
}

export function runLogStoreContract(name: string, factory: StoreFactory): void {
  describe(`LogStore contract: ${name}`, () => {
    let store: LogStore;
    afterEach(() => {
      store.close();
      factory.cleanup();
    });

    test("an empty store", () => {
      store = factory.create();
      expect(store.size()).toBe(0);
      expect(store.readEntry(0)).toBeUndefined();
      expect(store.readEntries(0, 10)).toEqual([]);
      expect(store.latestCheckpoint()).toBeUndefined();
      expect(store.checkpoints()).toEqual([]);
      expect(store.getDoc("k", "x")).toBeUndefined();
      expect(store.lookup("i", "k")).toEqual([]);
      expect([...store.stateRows()]).toEqual([]);
    });

    test("entries, leaf index, references, tiles and checkpoints after commits", () => {
      store = factory.create();
      store.commit(batch(0, 3));
      store.commit({
        ...batch(3, 2),
        entries: entries(3, 2, [{ name: "parent", target: 1 }]),
        tiles: [{ level: 0, index: 0, width: 5, nodes: new Uint8Array(16320).fill(7) }],
      });
      expect(store.size()).toBe(5);
      expect(store.readEntry(4)).toMatchObject({ index: 4, type: "test.even" });
      expect(new TextDecoder().decode(store.readEntry(4)!.bytes)).toBe('{"n":4}');
      expect(store.readEntries(1, 4).map((e) => e.index)).toEqual([1, 2, 3]);
      const seen: number[] = [];
      store.forEachEntry((e) => seen.push(e.index), 2);
      expect(seen).toEqual([2, 3, 4]);
      expect(store.indexOfLeafHash(hash(3))).toBe(2);
      expect(store.indexOfLeafHash(hash(99))).toBeUndefined();
      const rows = [...store.leafIndexRows()];
      expect(rows.map((r) => r.index).sort()).toEqual([0, 1, 2, 3, 4]);
      expect(rows.every((r) => store.indexOfLeafHash(r.hash) === r.index)).toBe(true);
      expect(store.referencesTo(1)).toEqual([
        { source: 3, name: "parent" },
        { source: 4, name: "parent" },
      ]);
      expect(store.referencesTo(1, { after: 3 })).toEqual([{ source: 4, name: "parent" }]);
      expect(store.readTile(0, 0)).toMatchObject({ level: 0, index: 0, width: 5 });
      expect(store.readTile(0, 0)!.nodes).toEqual(new Uint8Array(16320).fill(7));
      expect(store.readTile(1, 0)).toBeUndefined();
      expect(store.latestCheckpoint()).toEqual({ size: 5, note: "note 5\n" });
      expect(store.checkpoints().map((c) => c.size)).toEqual([3, 5]);
    });

    test("the checkpoint history pages newest first and samples by size", () => {
      store = factory.create();
      store.commit(batch(0, 3));
      store.commit(batch(3, 2));
      store.commit(batch(5, 4));
      expect(store.checkpointsBefore(undefined, 10).map((c) => c.size)).toEqual([9, 5, 3]);
      expect(store.checkpointsBefore(undefined, 2)).toEqual([
        { size: 9, note: "note 9\n" },
        { size: 5, note: "note 5\n" },
      ]);
      expect(store.checkpointsBefore(5, 10).map((c) => c.size)).toEqual([3]);
      expect(store.checkpointsBefore(3, 10)).toEqual([]);
      expect(store.checkpointAtLeast(0)?.size).toBe(3);
      expect(store.checkpointAtLeast(4)?.size).toBe(5);
      expect(store.checkpointAtLeast(9)?.size).toBe(9);
      expect(store.checkpointAtLeast(10)).toBeUndefined();
    });

    test("recent entries newest first, by type, and counts by type", () => {
      store = factory.create();
      store.commit(batch(0, 7));
      store.commit(batch(7, 4, { checkpoint: { size: 11, note: "note 11\n" } }));
      expect(store.recentEntries({ limit: 3 }).map((e) => e.index)).toEqual([10, 9, 8]);
      expect(store.recentEntries({ limit: 3, before: 2 }).map((e) => e.index)).toEqual([1, 0]);
      const odd = store.recentEntries({ type: "test.odd", limit: 10 });
      expect(odd.map((e) => e.index)).toEqual([9, 7, 5, 3, 1]);
      expect(odd[0]).toMatchObject({ type: "test.odd" });
      expect(new TextDecoder().decode(odd[0]!.bytes)).toBe('{"n":9}');
      expect(store.recentEntries({ type: "test.even", before: 6, limit: 2 }).map((e) => e.index)).toEqual([
        4, 2,
      ]);
      expect(store.recentEntries({ type: "no.such", limit: 10 })).toEqual([]);
      expect(store.entryTypeCounts()).toEqual({ "test.even": 6, "test.odd": 5 });
      expect(store.entryTypeCounts(7)).toEqual({ "test.even": 2, "test.odd": 2 });
      expect(store.entryTypeCounts(11)).toEqual({});
    });

    test("entries by leaf hash, and leaf hashes of one type by prefix", () => {
      store = factory.create();
      store.commit(batch(0, 11));
      const hex = (n: number): string => Buffer.from(hash(n)).toString("hex");
      expect(store.entryByLeafHash(hex(3))).toMatchObject({ index: 2, type: "test.even" });
      expect(new TextDecoder().decode(store.entryByLeafHash(hex(3))!.bytes)).toBe('{"n":2}');
      expect(store.entryByLeafHash(hex(99))).toBeUndefined();
      // Only exact lowercase hex names an entry: ids come from requests.
      expect(store.entryByLeafHash(hex(10))).toMatchObject({ index: 9, type: "test.odd" });
      for (const bad of [hex(10).toUpperCase(), hex(3).slice(1), `${hex(3)}0`, "", "../x", "zz".repeat(32)])
        expect(store.entryByLeafHash(bad)).toBeUndefined();
      // hash(n) is n/256 then 31 bytes of n%256: 000101…, 000202…, …, 000b0b…; odd indexes hold
      // the even n.
      expect(store.entryIdsWithPrefix("test.odd", "0002")).toEqual([hex(2)]);
      expect(store.entryIdsWithPrefix("test.odd", "000", 10)).toEqual([
        hex(2),
        hex(4),
        hex(6),
        hex(8),
        hex(10),
      ]);
      expect(store.entryIdsWithPrefix("test.odd", "000")).toEqual([hex(2), hex(4)]);
      expect(store.entryIdsWithPrefix("test.odd", "000", 1)).toEqual([hex(2)]);
      expect(store.entryIdsWithPrefix("test.odd", "000a")).toEqual([hex(10)]);
      expect(store.entryIdsWithPrefix("test.even", "0003")).toEqual([hex(3)]);
      expect(store.entryIdsWithPrefix("test.even", "0002")).toEqual([]);
      expect(store.entryIdsWithPrefix("test.odd", hex(4))).toEqual([hex(4)]);
      expect(store.entryIdsWithPrefix("test.odd", "00g")).toEqual([]);
      expect(store.entryIdsWithPrefix("test.odd", "FF")).toEqual([]);
    });

    test("a tile is replaced when it grows", () => {
      store = factory.create();
      store.commit({
        ...batch(0, 1),
        tiles: [{ level: 0, index: 0, width: 1, nodes: new Uint8Array(16320).fill(1) }],
      });
      store.commit({
        ...batch(1, 1),
        tiles: [{ level: 0, index: 0, width: 2, nodes: new Uint8Array(16320).fill(2) }],
      });
      expect(store.readTile(0, 0)).toMatchObject({ width: 2 });
      expect(store.readTile(0, 0)!.nodes[0]).toBe(2);
    });

    test("documents and indexes: put, delete, ordered lookups with cursors", () => {
      store = factory.create();
      store.commit({
        ...batch(0, 1),
        mutations: [
          { op: "put", kind: "report", id: "r1", doc: { status: "open", sections: ["a"] } },
          { op: "put", kind: "report", id: "r2", doc: { status: "signed" } },
          ...[5, 1, 9, 3].map((seq) => ({
            op: "index" as const,
            name: "by-patient",
            key: "p1",
            seq,
            value: `v${seq}`,
          })),
          { op: "index", name: "by-patient", key: "p2", seq: 2, value: "other" },
        ],
      });
      store.commit({
        ...batch(1, 1),
        mutations: [
          { op: "delete", kind: "report", id: "r2" },
          { op: "unindex", name: "by-patient", key: "p1", seq: 9 },
          { op: "put", kind: "report", id: "r1", doc: { status: "signed" } },
        ],
      });
      expect(store.getDoc("report", "r1")).toEqual({ status: "signed" });
      expect(store.getDoc("report", "r2")).toBeUndefined();
      expect(store.lookup("by-patient", "p1").map((r) => r.seq)).toEqual([1, 3, 5]);
      expect(store.lookup("by-patient", "p1", { reverse: true, limit: 2 }).map((r) => r.value)).toEqual([
        "v5",
        "v3",
      ]);
      expect(store.lookup("by-patient", "p1", { after: 1, limit: 1 })).toEqual([{ seq: 3, value: "v3" }]);
      expect(store.lookup("by-patient", "p1", { after: 5, reverse: true })).toEqual([
        { seq: 3, value: "v3" },
        { seq: 1, value: "v1" },
      ]);
      expect(store.lookupValues("by-patient", "p1")).toEqual(["v1", "v3", "v5"]);
      expect(store.lookupValues("by-patient", "nobody")).toEqual([]);
      expect(store.indexKeys("by-patient")).toEqual(["p1", "p2"]);
      expect(store.indexKeys("by-patient", { after: "p1" })).toEqual(["p2"]);
      // Short ids people type: document ids of one kind by prefix, at most `limit`.
      expect(store.docIdsWithPrefix("report", "r")).toEqual(["r1"]);
      expect(store.docIdsWithPrefix("report", "r2")).toEqual([]);
      expect(store.docIdsWithPrefix("other", "r")).toEqual([]);
      expect(store.indexKeys("by-patient", { limit: 1 })).toEqual(["p1"]);
      expect(store.indexKeys("none")).toEqual([]);
      const rows = [...store.stateRows()];
      expect(rows).toEqual([...store.stateRows()]);
      expect(rows.filter((r) => r.startsWith("doc "))).toHaveLength(1);
    });

    test("index values round-trip exactly, entry ids as well as other text", () => {
      store = factory.create();
      const id = "0123456789abcdef".repeat(4);
      const values = [id, id.toUpperCase(), `${id}0`, "", "x y", "ü"];
      store.commit({
        ...batch(0, 1),
        mutations: values.map((value, seq) => ({ op: "index" as const, name: "n", key: "k", seq, value })),
      });
      expect(store.lookup("n", "k").map((r) => r.value)).toEqual(values);
      expect(store.lookup("n", "k", { reverse: true, limit: 1 })).toEqual([{ seq: 5, value: "ü" }]);
      expect(store.lookupValues("n", "k")).toEqual(values);
      expect([...store.stateRows()]).toContain(`idx n k 0 ${id}`);
      store.commit({ ...batch(1, 1), mutations: [{ op: "unindex", name: "n", key: "k", seq: 0 }] });
      expect(store.lookupValues("n", "k")).toEqual(values.slice(1));
    });

    test("a failing batch changes nothing (atomicity)", () => {
      store = factory.create();
      store.commit(batch(0, 2));
      const bad: CommitBatch = {
        ...batch(2, 2),
        entries: [...entries(2, 1), { ...entries(3, 1)[0]!, leafHash: hash(1) }],
        mutations: [{ op: "put", kind: "k", id: "x", doc: { a: 1 } }],
      };
      expect(() => store.commit(bad)).toThrow();
      expect(store.size()).toBe(2);
      expect(store.readEntry(2)).toBeUndefined();
      expect(store.getDoc("k", "x")).toBeUndefined();
      expect(store.latestCheckpoint()?.size).toBe(2);
      store.commit(batch(2, 1));
      expect(store.size()).toBe(3);
    });

    test("a batch must start at the current size", () => {
      store = factory.create();
      store.commit(batch(0, 1));
      expect(() => store.commit(batch(5, 1))).toThrow(RadledgerError);
      expect(store.size()).toBe(1);
    });

    test("a reopened store has everything committed", () => {
      store = factory.create();
      if (!factory.reopen) return;
      store.commit({ ...batch(0, 3), mutations: [{ op: "put", kind: "k", id: "x", doc: { a: 1 } }] });
      store = factory.reopen(store);
      expect(store.size()).toBe(3);
      expect(store.getDoc("k", "x")).toEqual({ a: 1 });
      expect(store.latestCheckpoint()?.size).toBe(3);
      store.commit(batch(3, 1));
      expect(store.size()).toBe(4);
    });
  });
}
