/**
 * `radledger bench seed --measure` / measureWebQueries: the latency of the API requests the web
 * application's pages make over a seeded data directory (src/bench/seed.ts) — a patient's access
 * history with its filters, the auditor's access search, the log explorer — each over HTTP against
 * a node serving the directory, signed in with the seeded users' passwords like the app. Sequential
 * requests (what one page view waits for), a few warm-up requests first, then p50 / p95 / max.
 * The first request of the explorer's list, which counts the log's entries by type, is reported on
 * its own (`coldMillis`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildServer } from "../api/server.js";
import { openNode } from "../wiring/node.js";
import { openAuthStore } from "../wiring/auth.js";
import { RadledgerError } from "../core/errors.js";
import { SEED_USERS_FILE, type SeedUser } from "./seed.js";

export interface QueryTiming {
  readonly name: string;
  readonly path: string;
  readonly items: number;
  readonly p50Millis: number;
  readonly p95Millis: number;
  readonly maxMillis: number;
}

export interface WebQueriesResult {
  readonly size: number;
  readonly patientAccesses: number;
  readonly samples: number;
  /** The first /api/v1/log/recent of the process (counts every entry by type once). */
  readonly coldMillis: number;
  readonly queries: QueryTiming[];
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

export async function measureWebQueries(dataDir: string, samples = 100): Promise<WebQueriesResult> {
  const { patient, users } = JSON.parse(readFileSync(join(dataDir, SEED_USERS_FILE), "utf8")) as {
    patient: string;
    users: SeedUser[];
  };
  const node = openNode(dataDir);
  const unlimited = { perSecond: 1e9, burst: 1e9 };
  const app = buildServer(node, {
    auth: openAuthStore(dataDir),
    logger: false,
    limits: { anonymous: unlimited, actor: unlimited, authFailures: unlimited, login: unlimited },
  });
  try {
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    const login = async (persona: SeedUser["persona"]): Promise<string> => {
      const u = users.find((x) => x.persona === persona);
      if (!u) throw new RadledgerError("STORE_NOT_FOUND", `${SEED_USERS_FILE} names no ${persona}`);
      const res = await fetch(`${url}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ actor: u.actor, password: u.password }),
      });
      const body = (await res.json()) as { token?: string; code?: string };
      if (!body.token)
        throw new RadledgerError("AUTH_CREDENTIALS_INVALID", `sign-in as ${u.actor}: ${body.code}`);
      return body.token;
    };
    const patientToken = await login("patient");
    const auditorToken = await login("auditor");
    const get = async (path: string, token?: string): Promise<{ ms: number; items: number }> => {
      const t0 = process.hrtime.bigint();
      const res = await fetch(
        `${url}${path}`,
        token ? { headers: { authorization: `Bearer ${token}` } } : {},
      );
      const text = await res.text();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.status !== 200) throw new RadledgerError("INTERNAL", `GET ${path}: ${res.status} ${text}`);
      const items = (JSON.parse(text) as { items?: unknown[] }).items;
      return { ms, items: items?.length ?? 1 };
    };

    const cold = await get("/api/v1/log/recent?limit=25");
    const size = node.ledger.size;
    // A month in the middle of the seeded year.
    const mid = Date.now() - 182 * 86_400_000;
    const from = new Date(mid).toISOString();
    const to = new Date(mid + 30 * 86_400_000).toISOString();
    const p = `/api/v1/patients/${patient}/access`;
    // The cursor 1,000 accesses into the history (page 21 of 50): the `next` of a 1,000-item page.
    const deep = await fetch(`${url}${p}?limit=1000`, {
      headers: { authorization: `Bearer ${patientToken}` },
    });
    const after = ((await deep.json()) as { next?: string }).next ?? "0";
    const cases: [string, string, string | undefined][] = [
      ["patient: history, first page", `${p}?limit=50`, patientToken],
      ["patient: history, page 21", `${p}?limit=50&after=${after}`, patientToken],
      ["patient: denied only", `${p}?limit=50&decision=deny`, patientToken],
      ["patient: one month", `${p}?limit=50&from=${from}&to=${to}`, patientToken],
      ["patient: one person", `${p}?limit=50&actor=bench-rad-3`, patientToken],
      ["patient: reports only", `${p}?limit=50&part=report`, patientToken],
      ["patient: a filter nothing matches", `${p}?limit=50&actor=bench-clin-0&purpose=HRESCH`, patientToken],
      [
        "auditor: patient's break-glass",
        `/api/v1/access?patient=${patient}&basis=break-glass&limit=50`,
        auditorToken,
      ],
      ["auditor: denials, whole log", "/api/v1/access?decision=deny&limit=50", auditorToken],
      ["auditor: break-glass queue", "/api/v1/access/break-glass?limit=50", auditorToken],
      ["explorer: recent entries", "/api/v1/log/recent?limit=25", undefined],
      ["explorer: recent of one type", "/api/v1/log/recent?type=report.signed&limit=25", undefined],
      ["explorer: a type not in the log", "/api/v1/log/recent?type=patient.data.erased&limit=25", undefined],
      ["explorer: checkpoints", "/api/v1/log/checkpoints?limit=25", undefined],
      ["explorer: size over time (200)", "/api/v1/log/checkpoints?sample=200", undefined],
      ["explorer: an entry's proof", `/api/v1/log/entries/${Math.floor(size / 3)}/proof`, undefined],
    ];
    const queries: QueryTiming[] = [];
    for (const [name, path, token] of cases) {
      let items = 0;
      for (let i = 0; i < 5; i++) items = (await get(path, token)).items;
      const times: number[] = [];
      for (let i = 0; i < samples; i++) times.push((await get(path, token)).ms);
      times.sort((a, b) => a - b);
      queries.push({
        name,
        path: path.replace(patient, "<patient>"),
        items,
        p50Millis: round(times[Math.floor(samples * 0.5)]!),
        p95Millis: round(times[Math.min(samples - 1, Math.floor(samples * 0.95))]!),
        maxMillis: round(times[samples - 1]!),
      });
    }
    return {
      size,
      patientAccesses: node.store.lookup("access.patient", patient).length,
      samples,
      coldMillis: round(cold.ms),
      queries,
    };
  } finally {
    await app.close();
    await node.close();
  }
}
