/**
 * The log explorer and the admin's node health with a real consortium, in a real Chromium (issue
 * 20, items 7 and 8; docs/web.md "Log explorer" and "Admin"). Three nodes on 127.0.0.1 witness and
 * mirror each other over HTTP (as test/integration/consortium.test.ts sets them up): A is the node
 * the browser talks to; A anchors its final checkpoint on a local Hardhat chain with a real anchor
 * call. Then C rewrites its history and asks for cosignatures on the fork, and A's witness and
 * mirror catch it: the equivocation must show as an alarm, with its evidence file downloadable and
 * checkable offline — on the public explorer and on the admin's health page.
 */
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Page } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { deployConsortium, type ConsortiumClient } from "../../src/adapters/evm/index.js";
import { buildServer } from "../../src/api/server.js";
import { setPassword } from "../../src/app/credentials.js";
import { addPeer, addWitness, readWitnessKey, setQuorum } from "../../src/app/consortium/config.js";
import { ConsortiumService } from "../../src/app/consortium/service.js";
import { readActorKey, readLogKey, readLogKeySeed, signAs, type HeldKey } from "../../src/app/keys.js";
import type { RadledgerNode } from "../../src/app/node.js";
import { toBase64 } from "../../src/core/bytes.js";
import { formatCosignatureVerifierKey } from "../../src/core/cosignature.js";
import { actorKeyId } from "../../src/core/entry.js";
import { verifyEvidence } from "../../src/core/evidence.js";
import { formatVerifierKey } from "../../src/core/note.js";
import { INSTITUTION_ACTOR } from "../../src/domain/identity/state.js";
import { openAuthStore } from "../../src/wiring/auth.js";
import { consortiumPorts } from "../../src/wiring/consortium.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { initNode, open } from "../helpers/consortium.js";
import { devAccountKey, startEvmService, type EvmService } from "../helpers/evm-service.js";
import { makeNode, newKey, ORIGIN, type TestNode } from "../helpers/node.js";
import { expectAccessible, launchChromium, screenshots, type Browser } from "../helpers/web.js";

// Hardhat dev account 17 (evm.test uses 0..9, consortium.test 14..16, the benchmark 18): test-only.
const EVM_KEY = devAccountKey(17);
const ADMIN_PASSWORD = "test-password-admin-consortium";

/** A peer node (B or C): its own origin, served in process on a port fixed before A is configured. */
interface Peer {
  readonly name: "b" | "c";
  readonly origin: string;
  readonly dir: string;
  readonly remove: () => void;
  readonly port: number;
  readonly url: string;
  node: RadledgerNode;
  svc: ConsortiumService;
  app: FastifyInstance;
}

let evm: EvmService;
let chain: ConsortiumClient;
let a: { t: TestNode; svc: ConsortiumService; api: TestApi };
const peers = {} as Record<"b" | "c", Peer>;
let browser: Browser;
let page: Page;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls a condition (never a fixed sleep); fails with `what` after the bound. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const svcOptions = { background: false, cosignTimeoutMs: 2000, backoffInitialMs: 50 } as const;

async function startPeer(x: Peer): Promise<void> {
  const hooks: { onCommit?: () => void } = {};
  x.node = open(x.dir, { onCommit: () => hooks.onCommit?.() });
  x.svc = await ConsortiumService.open(x.node, consortiumPorts, svcOptions);
  hooks.onCommit = () => x.svc.onCommit();
  x.app = buildServer(x.node, { auth: openAuthStore(x.node.dir), consortium: x.svc });
  await x.app.listen({ host: "127.0.0.1", port: x.port });
}

async function stopPeer(x: Peer): Promise<void> {
  await x.app.close();
  await x.svc.close();
  await x.node.close();
}

const logVkey = (dir: string): string => formatVerifierKey(readLogKey(crypto, dir));
const witnessVkey = (dir: string): string => formatCosignatureVerifierKey(readWitnessKey(crypto, dir));

/** `dir`'s node witnesses and mirrors each of `others`, and asks each to cosign (k = 2). */
function configure(dir: string, others: { name: string; origin: string; url: string; dir: string }[]): void {
  for (const o of others) {
    addPeer(crypto, dir, o.origin, o.url, logVkey(o.dir));
    addWitness(crypto, dir, `w-${o.name}`, o.url, witnessVkey(o.dir));
  }
  setQuorum(dir, 2);
}

/** A's newest published checkpoint is final at A's current size. */
const aFinal = (): boolean => {
  const p = a.svc.status().cosigning.published;
  return p?.final === true && p.size === a.t.node.ledger.size;
};
const peerFinal = (x: Peer): boolean => {
  const p = x.svc.status().cosigning.published;
  return p?.final === true && p.size === x.node.ledger.size;
};

/** A's mirrors hold each peer's whole published log. */
async function mirrorAll(): Promise<void> {
  await until("A mirrors B and C", async () => {
    const statuses = await a.svc.syncMirrors();
    return statuses.every((s) => {
      const peer = Object.values(peers).find((p) => p.origin === s.origin)!;
      return s.state === "ok" && s.mirroredSize === peer.node.ledger.size;
    });
  });
}

beforeAll(async () => {
  evm = await startEvmService();
  for (const name of ["b", "c"] as const) {
    const origin = `radledger.hospital-${name}.example/log`;
    const { dir, remove } = await initNode(origin, `Hospital ${name.toUpperCase()}`);
    const port = await freePort();
    peers[name] = { name, origin, dir, remove, port, url: `http://127.0.0.1:${port}` } as Peer;
  }
  // A: the node the browser talks to. Its peers' ports are known before they start.
  const hooks: { onCommit?: () => void } = {};
  const t = await makeNode({ verifyThreads: 0, onCommit: () => hooks.onCommit?.() });
  configure(t.dir, Object.values(peers));
  chain = await deployConsortium(
    { rpcUrl: evm.rpcUrl, privateKey: EVM_KEY, pollingIntervalMs: 20 },
    {
      members: [
        {
          origin: ORIGIN,
          account: privateKeyToAccount(EVM_KEY).address,
          verifierKey: logVkey(t.dir),
          witnessKey: witnessVkey(t.dir),
        },
      ],
      quorum: 1,
    },
  );
  const svc = await ConsortiumService.open(t.node, consortiumPorts, {
    ...svcOptions,
    anchorChain: {
      latest: (o: string) => chain.latest(o),
      anchor: (o: string, s: number, r: Uint8Array, p: readonly Uint8Array[], h: Uint8Array) =>
        chain.anchor(o, s, r, p, h),
    },
  });
  hooks.onCommit = () => svc.onCommit();
  const api = await startApi({ consortium: svc }, t);
  a = { t, svc, api };
  await setPassword(t.node, api.app.radledger.auth, "admin", ADMIN_PASSWORD, "admin");
  const self = { name: "a", origin: ORIGIN, url: api.url, dir: t.dir };
  configure(peers.b.dir, [self, peers.c]);
  configure(peers.c.dir, [self, peers.b]);
  await startPeer(peers.b);
  await startPeer(peers.c);
  // Entries on every log, then every checkpoint final (both witnesses cosigned), mirrored, anchored.
  await t.enrol("rad-a", ["radiologist"], { displayName: "Dr A" });
  await t.enrol("clin-a", ["clinician"], { displayName: "Dr Clin" });
  for (const p of Object.values(peers)) p.svc.onCommit();
  await until("every checkpoint is final", () => aFinal() && Object.values(peers).every(peerFinal));
  await mirrorAll();
  expect(await svc.anchorer!.anchorNow()).toMatchObject({ anchored: true });
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 180_000);

afterAll(async () => {
  // Whatever beforeAll got to before a failure is closed; the rest was never started.
  await (browser as Browser | undefined)?.close();
  for (const p of Object.values(peers) as Partial<Peer>[]) {
    if (p.app) await stopPeer(p as Peer).catch(() => undefined);
    p.remove?.();
  }
  const started = a as typeof a | undefined;
  await started?.api.close();
  await started?.svc.close();
  await started?.t.close();
  await (evm as EvmService | undefined)?.stop();
});

test("explorer (anonymous): the checkpoint with its witnesses' cosignatures, anchoring (block, tx), peers, no alarm", async () => {
  const status = a.svc.status();
  const published = status.cosigning.published!;
  const anchor = a.svc.store.latestAnchor()!;
  const [event] = await chain.anchorEvents(ORIGIN);
  expect(event!.txHash).toBe(anchor.txHash);
  await page.goto(`${a.api.url}/explorer`);

  // The cosigned checkpoint: its size, both witnesses by name, final, and the note as /checkpoint serves it.
  const cosigned = page.getByTestId("cosigned");
  await cosigned.waitFor();
  const cosignedText = await cosigned.innerText();
  expect(cosignedText).toContain(`${published.size}`);
  expect(cosignedText).toMatch(/w-b/);
  expect(cosignedText).toMatch(/w-c/);
  expect(cosignedText).toMatch(/final/i);
  const served = await (await fetch(`${a.api.url}/checkpoint`)).text();
  expect(
    served
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("— ")).length,
  ).toBe(3);
  expect(await page.getByTestId("cosigned-note").innerText()).toBe(served.trimEnd());
  // Per witness: the size it cosigned, and no failures.
  const witnesses = page.getByRole("table", { name: "Witnesses", exact: true });
  for (const w of ["w-b", "w-c"])
    expect(await witnesses.getByRole("row", { name: new RegExp(w) }).innerText()).toContain(
      String(published.size),
    );

  // Anchoring: block and transaction, as the chain's event has them.
  const anchoring = await page.getByTestId("anchoring").innerText();
  expect(anchoring).toContain(String(anchor.blockNumber));
  expect(anchoring).toContain(anchor.txHash);
  expect(anchoring).toContain(String(anchor.size));

  // The checkpoint history: the anchored checkpoint with its cosigners and its transaction.
  const row = page.getByTestId("checkpoints").getByRole("row", { name: new RegExp(`^${anchor.size}\\b`) });
  const rowText = await row.innerText();
  expect(rowText).toMatch(/w-b/);
  expect(rowText).toMatch(/w-c/);
  expect(rowText).toContain(String(anchor.blockNumber));

  // Peers mirrored, in sync; no alarm.
  const mirrors = page.getByRole("table", { name: "Peers this node mirrors" });
  for (const p of Object.values(peers)) {
    const r = await mirrors
      .getByRole("row", { name: new RegExp(p.origin.replace(/\./g, "\\.")) })
      .innerText();
    expect(r).toContain("ok");
    expect(r).toContain(String(p.node.ledger.size));
  }
  expect(await page.getByTestId("alarms").innerText()).toMatch(/No alarms/);
  await expectAccessible(page, "/explorer with a consortium");
  await screenshots(page, "explorer-consortium");
});

test("C forks: the explorer shows the equivocation as an alarm; its evidence file, fetched by keyboard, proves it", async () => {
  const c = peers.c;
  const size = c.node.ledger.size;
  const cKey = logVkey(c.dir);
  await stopPeer(c);
  // Rewrite C's history with C's own keys (as test/integration/consortium.test.ts does): same size,
  // other entries; the operator removes the node's own high-water marks too.
  for (const f of ["ledger.sqlite", "consortium.sqlite", "checkpoint.mark"])
    for (const s of ["", "-wal", "-shm"]) rmSync(join(c.dir, f + s), { force: true });
  const raw = open(c.dir);
  const inst: HeldKey = {
    actor: INSTITUTION_ACTOR,
    seed: readLogKeySeed(c.dir),
    publicKey: raw.logKey.publicKey,
    keyId: actorKeyId(crypto, raw.logKey.publicKey),
  };
  const admin = readActorKey(crypto, c.dir, "admin")!;
  await raw.appender.append(
    signAs(crypto, inst, c.origin, "institution.genesis", {
      name: "Hospital C",
      logVerifierKey: formatVerifierKey(raw.logKey),
      publicKey: toBase64(raw.logKey.publicKey),
    }),
  );
  await raw.appender.append(
    signAs(crypto, inst, c.origin, "actor.enrolled", {
      actorId: "admin",
      kind: "staff",
      roles: ["admin"],
      publicKey: toBase64(admin.publicKey),
    }),
  );
  for (let i = 0; raw.ledger.size < size; i++)
    await raw.appender.append(
      signAs(crypto, admin, c.origin, "actor.enrolled", {
        actorId: `forged-${i}`,
        kind: "staff",
        roles: ["radiologist"],
        publicKey: toBase64(newKey(`forged-${i}`).publicKey),
      }),
    );
  await raw.close();
  // C serves the fork and asks A to cosign it: A's witness refuses and keeps the evidence.
  await startPeer(c);
  await until("A's witness holds evidence against C", () => a.svc.witnessStore.equivocated(c.origin));
  // C grows its fork; A's mirror reads it and proves the rewrite too.
  const forged = newKey("forged-more");
  await c.node.appender.append(
    signAs(crypto, admin, c.origin, "actor.enrolled", {
      actorId: "forged-more",
      kind: "staff",
      roles: ["radiologist"],
      publicKey: toBase64(forged.publicKey),
    }),
  );
  await until("A's mirror of C is equivocated", async () =>
    (await a.svc.syncMirrors()).some((s) => s.origin === c.origin && s.state === "equivocated"),
  );
  const evidence = a.svc.witnessStore.evidence(c.origin);
  expect(evidence.map((e) => e.kind)).toContain("two-roots-for-one-size");

  await page.goto(`${a.api.url}/explorer`);
  // The alarm is a danger alert (role=alert), never hidden: each piece of evidence with its detail.
  const alarms = page.getByTestId("alarms");
  await alarms.getByRole("alert").waitFor();
  const alarmText = await alarms.innerText();
  expect(alarmText).toContain(c.origin);
  expect(alarmText).toMatch(/two roots for one size/i);
  expect(alarmText).toMatch(/witness/);
  for (const e of evidence) expect(alarmText).toContain(e.summary);
  // The command that checks it offline, with C's key as A is configured with it (the status API's peers).
  const status = (await (await fetch(`${a.api.url}/api/v1/consortium/status`)).json()) as {
    peers: { origin: string; vkey: string }[];
  };
  expect(status.peers).toContainEqual({ origin: c.origin, vkey: cKey });
  expect(alarmText).toContain(`--log-key ${cKey}`);
  // The mirror of C says equivocated, as a danger badge.
  const mirrorRow = page
    .getByRole("table", { name: "Peers this node mirrors" })
    .getByRole("row", { name: new RegExp(c.origin.replace(/\./g, "\\.")) });
  expect(await mirrorRow.locator(".badge-danger").innerText()).toMatch(/equivocated/);
  await expectAccessible(page, "/explorer with an equivocation alarm");
  await screenshots(page, "explorer-consortium-alarm");

  // Keyboard only: Tab to the first evidence file's link, Enter, and check the file offline.
  const first = evidence.find((e) => e.kind === "two-roots-for-one-size")!;
  const focused = (): Promise<string> =>
    page.evaluate(() => (document.activeElement as HTMLAnchorElement | null)?.getAttribute("href") ?? "");
  await page.locator("body").focus();
  const target = `/api/v1/consortium/evidence/${first.id}`;
  for (let i = 0; i < 80 && (await focused()) !== target; i++) await page.keyboard.press("Tab");
  expect(await focused()).toBe(target);
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  const file = await download.path();
  const { readFileSync } = await import("node:fs");
  const text = readFileSync(file, "utf8");
  expect(verifyEvidence(crypto, text, [cKey]).kind).toBe("two-roots-for-one-size");
});

test("admin → Health: the same consortium status, with the alarm first, in detail", async () => {
  await page.goto(`${a.api.url}/sign-in`);
  await page.getByLabel("Account (actor id)").fill("admin");
  await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"));
  await page.goto(`${a.api.url}/admin`);
  await page.getByTestId("readiness").getByText("Ready").waitFor();
  const c = peers.c;
  const alarms = page.getByTestId("alarms");
  await alarms.getByRole("alert").waitFor();
  const alarmText = await alarms.innerText();
  expect(alarmText).toContain(c.origin);
  expect(alarmText).toMatch(/two roots for one size/i);
  for (const e of a.svc.witnessStore.evidence(c.origin)) expect(alarmText).toContain(e.summary);
  // Witnesses by name with their cosigned size — not a dump of JSON.
  const published = a.svc.status().cosigning.published!;
  const witnesses = page.getByRole("table", { name: "Witnesses", exact: true });
  const wb = await witnesses.getByRole("row", { name: /w-b/ }).innerText();
  expect(wb).not.toContain("{");
  expect(wb).toContain(String(published.size));
  const anchor = a.svc.store.latestAnchor()!;
  const anchoring = await page.getByTestId("anchoring").innerText();
  expect(anchoring).toContain(anchor.txHash);
  expect(anchoring).toContain(String(anchor.blockNumber));
  const mirrorRow = page
    .getByRole("table", { name: "Peers this node mirrors" })
    .getByRole("row", { name: new RegExp(c.origin.replace(/\./g, "\\.")) });
  expect(await mirrorRow.locator(".badge-danger").innerText()).toMatch(/equivocated/);
  await expectAccessible(page, "admin health with a consortium alarm");
  await screenshots(page, "admin-health-consortium");
});
