/**
 * Soak (issue 19): `radledger serve`, started exactly as the `radledger` command starts (its V8 flags
 * and its allocator setting, src/app/node-flags.ts), under mixed traffic for a bounded time — self-signed appends, reads of the
 * checkpoint, hash tiles, entry bundles, entries with proofs and inclusion proofs, list queries,
 * password logins (the 64 MiB scrypt of src/adapters/sqlite/auth-store.ts) with `me` and logout, and
 * a few bad requests. The server's resident set (VmRSS of /proc/PID/status, proc(5)) is sampled
 * every few seconds and the series written as JSON (path printed; $RADLEDGER_SOAK_OUT or the system
 * temp directory).
 *
 * Asserted: no 5xx answer and no dropped connection; every answer the one expected (a bad request a
 * 4xx); RSS below the 256 MB target of docs/performance.md at every sample taken while no login is
 * in flight, and below it plus the 64 MiB a login's scrypt holds (128·r·N bytes, RFC 7914 §6) while
 * one is; after the warm-up (the first half), RSS does not keep growing: the median of the last
 * fifth of the samples is at most GROWTH_MIB above the median of those around the midpoint
 * (40–60 %), both without login samples; and `radledger verify --data` passes
 * on the log the soak wrote.
 *
 * 60 s in CI. `RADLEDGER_SOAK_MINUTES=30` runs the long soak (samples every 10 s).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { toHex } from "../../src/core/bytes.js";
import { tilePath, tileWidth, TILE_WIDTH } from "../../src/core/tiles.js";
import { signAs } from "../../src/app/keys.js";
import { NODE_ENV, NODE_FLAGS } from "../../src/app/node-flags.js";
import { runCli, startServe } from "../helpers/cli.js";
import { makeNode, ORIGIN, type TestNode } from "../helpers/node.js";

const MINUTES = Number(process.env.RADLEDGER_SOAK_MINUTES ?? "1");
const DURATION_MS = Math.round((Number.isFinite(MINUTES) && MINUTES > 0 ? MINUTES : 1) * 60_000);
const LONG = DURATION_MS > 5 * 60_000;
const SAMPLE_MS = LONG ? 10_000 : 2_000;
/** Concurrent traffic loops: enough to keep the node busy, few enough to leave the second core. */
const LOOPS = 8;
const LOGIN_EVERY_MS = 12_000; // the login limit is 10 at once, then 1 per 10 s (src/api/server.ts)
/** The memory target (docs/performance.md, design.md §9: ≤ 256 MB). */
const RSS_LIMIT_MIB = 256; // docs/performance.md reads "256 MB" as 256 MiB (247 MiB "met")
/** What one password check holds while it runs: 128 · r · N bytes of PASSWORD_COST (logN 16, r 8). */
const SCRYPT_MIB = (128 * 8 * 2 ** 16) / 2 ** 20;
/**
 * Allowed growth of RSS over the second half. In the long run the node's state has long settled
 * (30 min: + 6.6 MiB), so 24 MiB is a leak. In the 1-minute CI run the log grows by ≈ 18,000 entries
 * while its caches are still warming (+ 26 MiB seen on a clean CI run with no leak), so only a gross
 * leak is caught there; the allocator setting that stopped the per-login growth is held by
 * src/app/node-flags.test.ts.
 */
const GROWTH_MIB = LONG ? 24 : 48;
const PASSWORD = "soak-password-correct-horse";
const SERVE_ARGS = ["--actor-rate", "1000000", "--anonymous-rate", "1000000"];

let t: TestNode;
let token = "";

beforeAll(async () => {
  t = await makeNode();
  await t.node.close(); // the directory stays: `radledger serve` opens it next
  const created = await runCli(["token", "create", "--data", t.dir, "--actor", "admin", "--json"]);
  expect(created.code, created.stderr).toBe(0);
  token = (JSON.parse(created.stdout) as { token: string }).token;
}, 60_000);

afterAll(async () => {
  await t.reopen();
  await t.close();
});

function rssMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kib) / 1024;
}

/** The median: an outlier sample does not move it. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

test(
  `soak: ${DURATION_MS / 60_000} min of mixed traffic against serve, RSS bounded, no 5xx`,
  async () => {
    const server = await startServe(t.dir, SERVE_ARGS, NODE_FLAGS, NODE_ENV);
    const pid = server.child.pid!;
    const url = server.url;
    const auth = { authorization: `Bearer ${token}` };
    const counts: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    const problems: string[] = [];
    let size = 1;
    let serial = 0;

    /** One request; `expected` is the status it must answer (a bad request: any 4xx). */
    async function call(op: string, path: string, expected: number | "4xx", init: RequestInit = {}) {
      counts[op] = (counts[op] ?? 0) + 1;
      let res: Response;
      try {
        res = await fetch(`${url}${path}`, init);
      } catch (e) {
        problems.push(`${op} ${path}: ${String((e as Error).cause ?? e)}`);
        return undefined;
      }
      const body = await res.text();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const ok = expected === "4xx" ? res.status >= 400 && res.status < 500 : res.status === expected;
      if (!ok) problems.push(`${op} ${path}: ${res.status} ${body.slice(0, 200)}`);
      return ok ? body : undefined;
    }

    const ops: [weight: number, run: () => Promise<unknown>][] = [
      [
        40,
        async () => {
          serial += 1;
          const bytes = signAs(crypto, t.admin, ORIGIN, "ai.model.registered", {
            vendor: "Soak",
            name: "SoakNet",
            version: `1.${serial}`,
            artifactHash: toHex(randomBytes(32)),
            intendedUse: "soak test",
          });
          const body = await call("append", "/api/v1/entries", 201, {
            method: "POST",
            headers: { ...auth, "content-type": "application/vnd.radledger.entry+json" },
            body: new Uint8Array(bytes),
          });
          if (body !== undefined) size = Math.max(size, (JSON.parse(body) as { size: number }).size);
        },
      ],
      [10, () => call("checkpoint", "/checkpoint", 200)],
      [
        15,
        () => {
          const index = Math.floor(Math.random() * Math.ceil(size / TILE_WIDTH));
          const width = tileWidth(0, index, size);
          if (width === 0) return call("checkpoint", "/checkpoint", 200);
          const tile = { kind: "hash" as const, level: 0, index, ...(width < TILE_WIDTH ? { width } : {}) };
          return call("tile", `/${tilePath(tile)}`, 200);
        },
      ],
      [
        5,
        () => {
          const index = Math.floor(Math.random() * Math.ceil(size / TILE_WIDTH));
          const width = tileWidth(0, index, size);
          if (width === 0) return call("checkpoint", "/checkpoint", 200);
          const tile = {
            kind: "entries" as const,
            level: 0,
            index,
            ...(width < TILE_WIDTH ? { width } : {}),
          };
          return call("entry-bundle", `/${tilePath(tile)}`, 200, { headers: auth });
        },
      ],
      [
        10,
        () =>
          call("entry", `/api/v1/log/entries/${Math.floor(Math.random() * size)}`, 200, { headers: auth }),
      ],
      [
        5,
        () =>
          call("inclusion", `/api/v1/log/proofs/inclusion?index=${Math.floor(Math.random() * size)}`, 200),
      ],
      [10, () => call("query", "/api/v1/ai/models?limit=20", 200, { headers: auth })],
      [
        5,
        () =>
          [
            () =>
              call("bad", "/api/v1/entries", "4xx", {
                method: "POST",
                headers: { ...auth, "content-type": "application/json" },
                body: "{not json",
              }),
            () => call("bad", "/tile/0/1234", "4xx"),
            () => call("bad", `/api/v1/log/proofs/inclusion?index=${size + 10}`, "4xx"),
            () => call("bad", "/api/v1/nowhere", "4xx"),
          ][Math.floor(Math.random() * 4)]!(),
      ],
    ];
    const totalWeight = ops.reduce((n, [w]) => n + w, 0);
    const pick = (): (() => Promise<unknown>) => {
      let r = Math.random() * totalWeight;
      for (const [w, run] of ops) if ((r -= w) < 0) return run;
      return ops[0]![1];
    };

    // The admin's own password (so a login opens a session at once: src/api/auth.ts).
    await call("password", "/api/v1/actors/admin/password", 204, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ password: PASSWORD }),
    });

    const started = Date.now();
    /** Whether a login (its scrypt) is in flight: its samples are judged against their own bound. */
    let login = false;
    const sample = () => ({ seconds: (Date.now() - started) / 1000, rssMiB: rssMiB(pid), login });
    const samples: { seconds: number; rssMiB: number; login: boolean }[] = [sample()];
    const sampler = setInterval(() => samples.push(sample()), SAMPLE_MS);
    const until = started + DURATION_MS;
    const loops = Array.from({ length: LOOPS }, async () => {
      while (Date.now() < until) await pick()();
    });
    const logins = (async () => {
      let next = started;
      while (Date.now() < until) {
        if (Date.now() >= next) {
          next += LOGIN_EVERY_MS;
          login = true;
          const body = await call("login", "/api/v1/auth/login", 201, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ actor: "admin", password: PASSWORD }),
          });
          if (body !== undefined) {
            const session = { authorization: `Bearer ${(JSON.parse(body) as { token: string }).token}` };
            await call("me", "/api/v1/auth/me", 200, { headers: session });
            await call("logout", "/api/v1/auth/logout", 200, { method: "POST", headers: session });
            // A bad token, now and then: each one costs the client address a token of its
            // auth-failure bucket (1/s, src/api/route.ts), so not in the busy loops.
            await call("bad", "/api/v1/auth/me", "4xx", { headers: session });
          }
          login = false;
        }
        // Between logins this loop is one more reader, so it never idles on a timer.
        await call("checkpoint", "/checkpoint", 200);
      }
    })();
    await Promise.all([...loops, logins]);
    clearInterval(sampler);
    samples.push(sample());
    await server.stop();

    const rss = samples.filter((s) => !s.login).map((s) => s.rssMiB);
    const duringLogins = samples.filter((s) => s.login).map((s) => s.rssMiB);
    const n = rss.length;
    const midpoint = median(rss.slice(Math.floor(n * 0.4), Math.ceil(n * 0.6)));
    const end = median(rss.slice(Math.floor(n * 0.8)));
    const peak = Math.max(...rss);
    const loginPeak = Math.max(0, ...duringLogins);
    const requests = Object.values(counts).reduce((a, b) => a + b, 0);
    const report = {
      startedAt: new Date(started).toISOString(),
      durationSeconds: DURATION_MS / 1000,
      sampleSeconds: SAMPLE_MS / 1000,
      finalSize: size,
      requests,
      counts,
      statuses,
      problems: problems.slice(0, 50),
      rssMiB: { first: rss[0], midpoint, end, peak, loginPeak, growthSecondHalf: end - midpoint },
      samples,
    };
    const out =
      process.env.RADLEDGER_SOAK_OUT ??
      join(tmpdir(), `radledger-soak-${new Date(started).toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
    process.stdout.write(
      `soak: ${requests} requests in ${DURATION_MS / 1000} s (${JSON.stringify(counts)}), log size ${size}; RSS MiB first ${rss[0]!.toFixed(1)}, midpoint ${midpoint.toFixed(1)}, end ${end.toFixed(1)}, peak ${peak.toFixed(1)} (${loginPeak.toFixed(1)} with a login in flight); series in ${out}\n`,
    );

    expect(problems).toEqual([]);
    expect(Object.keys(statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    expect(counts.login ?? 0).toBeGreaterThanOrEqual(Math.floor(DURATION_MS / LOGIN_EVERY_MS));
    expect(peak).toBeLessThan(RSS_LIMIT_MIB);
    expect(loginPeak).toBeLessThan(RSS_LIMIT_MIB + SCRYPT_MIB);
    expect(end - midpoint).toBeLessThanOrEqual(GROWTH_MIB);

    const verified = await runCli(["verify", "--data", t.dir, "--quiet"]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  },
  DURATION_MS + 180_000,
);
