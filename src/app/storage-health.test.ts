import { expect, test } from "vitest";
import { RadledgerError } from "../core/errors.js";
import { StorageHealth } from "./storage-health.js";

const full = new RadledgerError("STORE_FULL", "full", { at: "/d/ledger.sqlite", sqlite: "SQLITE_FULL" });
const readOnly = new RadledgerError("STORE_IO", "ro", { at: "/d/ledger.sqlite", sqlite: "SQLITE_READONLY" });

function health(probe: () => void = () => undefined) {
  const lines: string[] = [];
  let now = 0;
  let probes = 0;
  const h = new StorageHealth({
    probe: () => {
      probes++;
      probe();
    },
    log: (l) => lines.push(l),
    now: () => now,
    probeIntervalMs: 1000,
  });
  return {
    h,
    lines,
    probes: () => probes,
    advance: (ms: number) => (now += ms),
  };
}

test("one line per transition: the first failure, a change of cause, the recovery; none per repeated failure", () => {
  const { h, lines } = health();
  h.observe("/d/ledger.sqlite", undefined);
  expect(lines).toEqual([]);
  for (let i = 0; i < 5; i++) h.observe("/d/ledger.sqlite", full);
  expect(lines).toEqual([
    "radledger: storage full (SQLITE_FULL) on /d/ledger.sqlite: appends refused until space returns",
  ]);
  h.observe("/d/ledger.sqlite", readOnly);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain("storage not writable (SQLITE_READONLY");
  h.observe("/d/ledger.sqlite", undefined);
  h.observe("/d/ledger.sqlite", undefined);
  expect(lines).toHaveLength(3);
  expect(lines[2]).toBe("radledger: storage writable again on /d/ledger.sqlite: writes accepted");
});

test("not ready while any database's last write failed; the reason names no path (readiness is public)", () => {
  const { h } = health(() => {
    throw full;
  });
  expect(h.status()).toEqual({ ready: true });
  h.observe("/d/vault.sqlite", full);
  h.observe("/d/ledger.sqlite", undefined);
  const s = h.status();
  expect(s).toMatchObject({ ready: false, code: "STORE_FULL", cause: "SQLITE_FULL" });
  expect(s.reason).not.toContain("/d/");
  h.observe("/d/vault.sqlite", undefined);
  expect(h.status()).toEqual({ ready: true });
});

test("the probe runs only while not ready, at most once per interval, and its success makes the node ready", () => {
  let diskFull = true;
  const t = health(() => {
    t.h.observe("/d/ledger.sqlite", diskFull ? full : undefined);
  });
  expect(t.h.status().ready).toBe(true);
  expect(t.probes()).toBe(0); // a healthy node does not probe
  t.h.observe("/d/ledger.sqlite", full);
  expect(t.h.status().ready).toBe(false);
  expect(t.probes()).toBe(1);
  diskFull = false;
  expect(t.h.status().ready).toBe(false); // within the interval: no second probe
  expect(t.probes()).toBe(1);
  t.advance(1000);
  expect(t.h.status().ready).toBe(true);
  expect(t.probes()).toBe(2);
});
