/**
 * The RIS intake benchmark (docs/performance.md, docs/intake.md): HL7 v2 ORU^R01 preliminary results
 * per second through MLLP (framing, Hl7Message parsing, mapping, vault, signing as the RIS, append,
 * ACK) ÷ in-process appends of the very same entries on a copy of the same log — what the HL7 path
 * costs on top of the ledger. One run.
 *
 * Setup: a node with a RIS system actor (key held by the node), a radiologist and `studies`
 * registered studies with accession numbers; then copied. The MLLP run pipelines `messages` results
 * (study i mod studies, so each report gets a handful of draft sections, as a RIS's drafts do) over
 * one connection and waits for every ACK. The in-process run appends the entries the MLLP run
 * recorded, read back from its log, one batch per message (the intake's grouping: the report's
 * opening with its first section), as many in flight as the listener allows.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { toBase64 } from "../core/bytes.js";
import { decodeEntry } from "../core/entry.js";
import { initDataDir } from "../app/init.js";
import { readActorKey, readLogKeySeed, signAs } from "../app/keys.js";
import { accessionKey } from "../app/register-study.js";
import { RisIntake } from "../app/ris-intake/intake.js";
import { listenMllp } from "../adapters/mllp/listener.js";
import { nodeFactory, openNode } from "../wiring/node.js";
import { INSTITUTION_ACTOR } from "../domain/identity/state.js";
import { actorKeyId } from "../core/entry.js";
import { ORIGIN, round2 } from "./dicom-fixtures.js";

export interface MllpBenchOptions {
  readonly messages?: number;
  readonly studies?: number;
  readonly log?: (line: string) => void;
}

export interface MllpBenchResult {
  readonly messages: number;
  readonly studies: number;
  readonly entries: number;
  readonly mllpSeconds: number;
  readonly mllpMessagesPerSecond: number;
  readonly inProcessSeconds: number;
  readonly inProcessMessagesPerSecond: number;
  /** MLLP messages/s ÷ in-process messages/s (1 = the HL7 path costs nothing on top). */
  readonly ratio: number;
}

const IN_FLIGHT = 256;

function oru(i: number, studies: number): string {
  const obr = new Array<string>(35).fill("");
  obr[0] = "OBR";
  obr[1] = "1";
  obr[3] = `ACC-BENCH-${i % studies}`;
  obr[4] = "CTHEAD^CT HEAD^L";
  obr[25] = "P";
  obr[32] = "rad-bench&SYNTHETIC&ATTENDING";
  return [
    `MSH|^~\\&|RIS|BENCH|RADLEDGER|BENCH|20261208020000||ORU^R01^ORU_R01|BENCH-${i}|P|2.5.1`,
    "PID|1||SYN-BENCH^^^BENCH^MR||SYNTHETIC^PATIENT",
    obr.join("|"),
    `OBX|1|TX|18782-3^Radiology Study observation^LN||Synthetic finding number ${i}: no acute abnormality.||||||P`,
  ].join("\r");
}

const frame = (text: string): Buffer =>
  Buffer.concat([Buffer.from([0x0b]), Buffer.from(text, "utf8"), Buffer.from([0x1c, 0x0d])]);

/** Sends every frame on one connection; resolves with the number of AA ACKs once all are answered. */
function pipeline(port: number, frames: readonly Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port }, () => s.end(Buffer.concat(frames)));
    let answered = "";
    s.setEncoding("utf8");
    s.on("data", (c: string) => (answered += c));
    s.on("error", reject);
    s.on("close", () => resolve(answered.split("MSA|AA|").length - 1));
  });
}

export async function runMllpBench(o: MllpBenchOptions = {}): Promise<MllpBenchResult> {
  const log = o.log ?? ((): void => undefined);
  const messages = o.messages ?? 10_000;
  const studies = o.studies ?? Math.max(1, Math.round(messages / 5));
  const tmp = mkdtempSync(join(tmpdir(), "radledger-bench-mllp-"));
  try {
    const dirA = join(tmp, "a");
    const dirB = join(tmp, "b");
    await initDataDir(dirA, { origin: ORIGIN, institutionName: "Bench Hospital" }, nodeFactory);
    let node = openNode(dirA);
    const admin = readActorKey(node.crypto, dirA, "admin")!;
    const institution = {
      actor: INSTITUTION_ACTOR,
      seed: readLogKeySeed(dirA),
      publicKey: node.logKey.publicKey,
      keyId: actorKeyId(node.crypto, node.logKey.publicKey),
    };
    const held = node.heldKeys.put("ris-bench", randomBytes(32));
    const sign = (key: typeof admin, type: string, body: Parameters<typeof signAs>[4]): Uint8Array =>
      signAs(node.crypto, key, ORIGIN, type, body);
    await node.appender.appendAll([
      sign(admin, "actor.enrolled", {
        actorId: "ris-bench",
        kind: "system",
        roles: ["integration"],
        publicKey: toBase64(held.publicKey),
      }),
      sign(admin, "actor.enrolled", {
        actorId: "rad-bench",
        kind: "staff",
        roles: ["radiologist"],
        publicKey: toBase64(node.crypto.ed25519PublicKey(randomBytes(32))),
      }),
    ]);
    const hex = (): string => randomBytes(32).toString("hex");
    const registrations: Uint8Array[] = [];
    for (let s = 0; s < studies; s++) {
      const studyKey = node.pseudonym("study", `2.25.${9_000_000 + s}`);
      node.manifests.noteAccession(accessionKey(node, `ACC-BENCH-${s}`), studyKey);
      registrations.push(
        sign(institution, "study.registered", {
          studyKey,
          patient: node.pseudonym("patient", `SYN-BENCH-${s % 97}`),
          modalities: ["CT"],
          series: [
            {
              seriesKey: node.pseudonym("series", `se-${s}`),
              modality: "CT",
              instanceCount: 1,
              manifestRoot: hex(),
            },
          ],
          instanceCount: 1,
          manifestRoot: hex(),
          source: { kind: "pacs", name: "bench" },
        }),
      );
    }
    for (let i = 0; i < registrations.length; i += 1000)
      await node.appender.appendAll(registrations.slice(i, i + 1000));
    const before = node.ledger.size;
    await node.close();
    cpSync(dirA, dirB, { recursive: true });
    log(`mllp: ${studies} studies registered; sending ${messages} ORU^R01`);

    // MLLP: the whole path, one pipelined connection.
    node = openNode(dirA);
    const intake = new RisIntake(node, { sources: new Map([["127.0.0.1", "ris-bench"]]) });
    const listener = await listenMllp(intake, { host: "127.0.0.1", port: 0 });
    const frames = Array.from({ length: messages }, (_, i) => frame(oru(i, studies)));
    let t0 = performance.now();
    const accepted = await pipeline(listener.port, frames);
    const mllpSeconds = (performance.now() - t0) / 1000;
    await listener.close();
    if (accepted !== messages) throw new Error(`mllp bench: ${accepted} of ${messages} acknowledged AA`);
    const recorded: Uint8Array[] = [];
    for (let i = before; i < node.ledger.size; i++) recorded.push(node.store.readEntry(i)!.bytes);
    await node.close();

    // In-process: the same entries, one batch per message (an opening goes with its first section).
    const groups: Uint8Array[][] = [];
    for (const bytes of recorded) {
      const last = groups.at(-1);
      if (last?.length === 1 && decodeEntry(last[0]!).type === "report.opened") last.push(bytes);
      else groups.push([bytes]);
    }
    node = openNode(dirB);
    t0 = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < groups.length) {
        const g = groups[next++]!;
        const results = await node.appender.appendAll(g);
        if (results.some((r) => !r.ok)) throw new Error("mllp bench: an in-process append was refused");
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const inProcessSeconds = (performance.now() - t0) / 1000;
    await node.close();
    const result: MllpBenchResult = {
      messages,
      studies,
      entries: recorded.length,
      mllpSeconds: round2(mllpSeconds),
      mllpMessagesPerSecond: Math.round(messages / mllpSeconds),
      inProcessSeconds: round2(inProcessSeconds),
      inProcessMessagesPerSecond: Math.round(messages / inProcessSeconds),
      ratio: round2(inProcessSeconds / mllpSeconds),
    };
    log(`mllp: ${JSON.stringify(result)}`);
    return result;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
