import { describe, expect, test } from "vitest";
import { RadledgerError } from "../../core/errors.js";
import {
  coalesce,
  createAppender,
  limitEntrySize,
  observe,
  type AppendFn,
  type Submission,
} from "./appender.js";
import type { AppendResult } from "./ledger.js";

const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);

/** A fake ledger: admits every entry at the next index, refuses entries whose first byte is 0. */
function fakeLedger(): { append: AppendFn; calls: number[] } {
  let size = 0;
  const calls: number[] = [];
  return {
    calls,
    append: async (batch) => {
      calls.push(batch.length);
      return batch.map((s): AppendResult => {
        if (s.bytes[0] === 0) return { ok: false, error: new RadledgerError("ENTRY_MALFORMED", "zero") };
        const index = size++;
        return { ok: true, index, leafHash: index.toString(16).padStart(64, "0") };
      });
    },
  };
}

/** A scheduler the test runs by hand, so "one event-loop turn" is explicit. */
function manualSchedule(): { schedule: (task: () => void) => void; run(): void } {
  const tasks: (() => void)[] = [];
  return { schedule: (t) => tasks.push(t), run: () => tasks.splice(0).forEach((t) => t()) };
}

describe("appender decorators", () => {
  test("coalesce: single entries of one turn reach the ledger as one batch, answers go back by position", async () => {
    const ledger = fakeLedger();
    const turn = manualSchedule();
    const append = coalesce(ledger.append, turn.schedule);
    const a = append([{ bytes: bytes(3) }]);
    const b = append([{ bytes: bytes(3, 0) }]);
    const c = append([{ bytes: bytes(3) }]);
    expect(ledger.calls).toEqual([]); // nothing before the turn ends
    turn.run();
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    expect(ledger.calls).toEqual([3]);
    expect(ra).toMatchObject([{ ok: true, index: 0 }]);
    expect(rb).toMatchObject([{ ok: false }]);
    expect(rc).toMatchObject([{ ok: true, index: 1 }]);
    // The next turn is a batch of its own.
    const d = append([{ bytes: bytes(3) }]);
    turn.run();
    expect(await d).toMatchObject([{ ok: true, index: 2 }]);
    expect(ledger.calls).toEqual([3, 1]);
  });

  test("coalesce: a batch of several entries goes on at once, without waiting for the turn", async () => {
    const ledger = fakeLedger();
    const turn = manualSchedule();
    const append = coalesce(ledger.append, turn.schedule);
    const bulk = await append([{ bytes: bytes(3) }, { bytes: bytes(3) }]);
    expect(bulk.map((r) => r.ok && r.index)).toEqual([0, 1]);
    expect(ledger.calls).toEqual([2]);
  });

  test("coalesce: a failing ledger call rejects every submitter of that batch", async () => {
    const turn = manualSchedule();
    const append = coalesce(() => Promise.reject(new RadledgerError("NODE_CLOSED", "closed")), turn.schedule);
    const a = append([{ bytes: bytes(1) }]);
    const b = append([{ bytes: bytes(1) }]);
    turn.run();
    await expect(a).rejects.toMatchObject({ code: "NODE_CLOSED" });
    await expect(b).rejects.toMatchObject({ code: "NODE_CLOSED" });
  });

  test("limitEntrySize: oversized entries are refused with ENTRY_TOO_LARGE and never reach the ledger", async () => {
    const ledger = fakeLedger();
    const append = limitEntrySize(ledger.append, 10);
    const results = await append([{ bytes: bytes(11) }, { bytes: bytes(10) }, { bytes: bytes(500) }]);
    expect(ledger.calls).toEqual([1]);
    expect(results.map((r) => (r.ok ? r.index : r.error.code))).toEqual([
      "ENTRY_TOO_LARGE",
      0,
      "ENTRY_TOO_LARGE",
    ]);
    expect(await append([{ bytes: bytes(11) }])).toMatchObject([{ ok: false }]);
    expect(ledger.calls).toEqual([1]);
  });

  test("observe: reports submitted and admitted counts and the time each call took", async () => {
    const ledger = fakeLedger();
    const seen: unknown[] = [];
    let clock = 1000;
    const append = observe(
      async (batch: readonly Submission[]) => {
        clock += 250;
        return ledger.append(batch);
      },
      (o) => seen.push(o),
      () => clock,
    );
    await append([{ bytes: bytes(2) }, { bytes: bytes(2, 0) }, { bytes: bytes(2) }]);
    expect(seen).toEqual([{ submitted: 3, admitted: 2, seconds: 0.25 }]);
  });
});

describe("createAppender", () => {
  test("append resolves with the entry's place or rejects with its coded refusal; every call is observed", async () => {
    const ledger = fakeLedger();
    const appender = createAppender((entries) => ledger.append(entries.map((b) => ({ bytes: b }))), {
      maxEntryBytes: 100,
    });
    const observed: number[] = [];
    const stop = appender.onAppend((o) => observed.push(o.submitted));
    expect(await appender.append(bytes(5))).toEqual({ index: 0, leafHash: "0".repeat(64) });
    await expect(appender.append(bytes(5, 0))).rejects.toMatchObject({ code: "ENTRY_MALFORMED" });
    await expect(appender.append(bytes(101))).rejects.toMatchObject({ code: "ENTRY_TOO_LARGE" });
    const all = await appender.appendAll([bytes(5), bytes(5)]);
    expect(all.map((r) => r.ok && r.index)).toEqual([1, 2]);
    stop();
    await appender.append(bytes(5));
    expect(observed).toEqual([1, 1, 1, 2]);
  });

  test("the parse a submitter already made reaches the ledger only when someone gave one", async () => {
    const given: (readonly unknown[] | undefined)[] = [];
    const appender = createAppender(async (entries, parsed) => {
      given.push(parsed);
      return entries.map((_, i) => ({ ok: true as const, index: i, leafHash: "" }));
    });
    await appender.append(bytes(2));
    await appender.append(bytes(2), { v: 1 });
    expect(given).toEqual([undefined, [{ v: 1 }]]);
  });
});
