/**
 * The PKCS#11 key backend on a SoftHSM2 token made in a temporary directory (docs/security.md §Keys),
 * and log key rotation (docs/log-format.md §Log key rotation) with the HSM and with files.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkcs11js from "pkcs11js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { toBase64, utf8 } from "../../src/core/bytes.js";
import { formatCosignatureVerifierKey, parseCosignatureVerifierKey } from "../../src/core/cosignature.js";
import { openCheckpoint } from "../../src/core/checkpoint.js";
import { actorKeyId } from "../../src/core/entry.js";
import { RadledgerError } from "../../src/core/errors.js";
import {
  ed25519Verifier,
  formatVerifierKey,
  parseSignedNote,
  parseVerifierKey,
} from "../../src/core/note.js";
import { readConfig, writeConfig, type Pkcs11KeyConfig } from "../../src/app/data-dir.js";
import { initDataDir } from "../../src/app/init.js";
import { signAsInstitution } from "../../src/app/institution.js";
import { rotateLogKey } from "../../src/app/key-rotate.js";
import { readActorKey, signAs } from "../../src/app/keys.js";
import { prepareBundle } from "../../src/app/bundle-export.js";
import { verifyBundle, type BundleMember } from "../../src/core/bundle/verify.js";
import { Pkcs11Token } from "../../src/adapters/pkcs11/token.js";
import { auditDataDir } from "../../src/wiring/audit.js";
import { nodeFactory, openNode, type RadledgerNode } from "../../src/wiring/node.js";
import { runCli } from "../helpers/cli.js";
import { studyBody } from "../helpers/fixtures.js";
import { makeNode, ORIGIN as TEST_ORIGIN, tempDir } from "../helpers/node.js";
import { softHsmToken, type SoftHsm } from "../helpers/softhsm.js";

const ORIGIN = "radledger.hsm-hospital.example/log";

let hsm: SoftHsm;
let work: { path: string; remove(): void };
let n = 0;

beforeAll(() => {
  hsm = softHsmToken();
  work = tempDir();
});
afterAll(() => {
  work.remove();
  hsm.remove();
});

async function hsmDataDir(labels: { log: string; vault: string; witness: string }): Promise<string> {
  const dir = join(work.path, `hsm-${++n}`);
  await initDataDir(
    dir,
    {
      origin: ORIGIN,
      pkcs11: { module: hsm.module, token: hsm.token, pinEnv: hsm.pinEnv, labels },
    },
    nodeFactory,
  );
  return dir;
}

function labels(prefix: string): { log: string; vault: string; witness: string } {
  return { log: `${prefix}-log`, vault: `${prefix}-vault`, witness: `${prefix}-witness` };
}

function token(): Pkcs11Token {
  return Pkcs11Token.open({ module: hsm.module, token: hsm.token, pin: hsm.pin });
}

function verifierOf(node: RadledgerNode, publicKey: Uint8Array) {
  return ed25519Verifier(crypto, node.config.origin, publicKey);
}

async function enrol(node: RadledgerNode, dir: string, actorId: string): Promise<void> {
  const admin = readActorKey(crypto, dir, "admin")!;
  await node.appender.append(
    signAs(crypto, admin, node.config.origin, "actor.enrolled", {
      actorId,
      kind: "staff",
      roles: ["radiologist"],
      publicKey: toBase64(crypto.ed25519PublicKey(crypto.randomBytes(32))),
      displayName: actorId,
    }),
  );
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof RadledgerError ? e.code : String(e);
  }
  return undefined;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe("PKCS#11 key backend (SoftHSM2)", () => {
  it("signs checkpoints and the institution's entries in the HSM; the data directory holds no log, witness or vault master key", async () => {
    const dir = await hsmDataDir(labels("a"));
    const config = readConfig(dir);
    expect(config.keys).toMatchObject({ backend: "pkcs11", token: hsm.token, pinEnv: hsm.pinEnv });
    expect(JSON.stringify(config)).not.toContain(hsm.pin);

    const t = token();
    const hsmPublic = t.ed25519PublicKey("a-log");
    t.close();
    const node = openNode(dir, { verifyThreads: 0 });
    try {
      expect(node.keys.backend).toBe("pkcs11");
      expect(toBase64(node.logKey.publicKey)).toBe(toBase64(hsmPublic));
      await enrol(node, dir, "dr-a");
      await node.appender.append(
        signAsInstitution(node, "role.granted", { actorId: "dr-a", role: "auditor" }),
      );
      const cp = openCheckpoint(node.ledger.latestCheckpoint!, [verifierOf(node, hsmPublic)], ORIGIN);
      expect(cp.checkpoint.size).toBe(4);
      // The witness key cosigns in the HSM; config.json records its public verifier key.
      const witness = node.keys.witness!;
      const cosigned = witness.cosign(parseSignedNote(node.ledger.latestCheckpoint!).text, 1_700_000_000);
      const witnessVkey = (config.keys as Pkcs11KeyConfig).witnessVerifierKey!;
      expect(formatCosignatureVerifierKey(witness)).toBe(witnessVkey);
      expect(
        parseCosignatureVerifierKey(crypto, witnessVkey).verify(
          utf8(parseSignedNote(node.ledger.latestCheckpoint!).text),
          cosigned.signature,
        ),
      ).toBe(true);
    } finally {
      await node.close();
    }

    // Byte scan: no key file, and no secret key string, anywhere in the directory.
    expect(existsSync(join(dir, "keys", "log.key"))).toBe(false);
    expect(existsSync(join(dir, "keys", "vault.master"))).toBe(false);
    expect(existsSync(join(dir, "keys", "witness.key"))).toBe(false);
    for (const f of filesUnder(dir)) {
      const bytes = readFileSync(f);
      expect(bytes.includes("PRIVATE+KEY"), f).toBe(false);
    }
    expect((await auditDataDir(dir, { threads: 0 })).ok).toBe(true);
  });

  it("makes private and secret keys sensitive and not extractable", () => {
    const lib = new pkcs11js.PKCS11();
    lib.load(hsm.module);
    lib.C_Initialize();
    try {
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === hsm.token)!;
      const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
      lib.C_Login(session, pkcs11js.CKU_USER, hsm.pin);
      for (const [label, cls] of [
        ["a-log", pkcs11js.CKO_PRIVATE_KEY],
        ["a-vault", pkcs11js.CKO_SECRET_KEY],
      ] as const) {
        lib.C_FindObjectsInit(session, [
          { type: pkcs11js.CKA_LABEL, value: label },
          { type: pkcs11js.CKA_CLASS, value: cls },
        ]);
        const [handle] = lib.C_FindObjects(session, 1);
        lib.C_FindObjectsFinal(session);
        const attrs = lib.C_GetAttributeValue(session, handle!, [
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_EXTRACTABLE },
        ]);
        expect(attrs.map((a) => a.value[0])).toEqual([1, 0]);
        expect(() => lib.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_VALUE }])).toThrow(
          /CKR_ATTRIBUTE_SENSITIVE/,
        );
      }
      lib.C_CloseSession(session);
    } finally {
      lib.C_Finalize();
      lib.close();
    }
  });

  it("wraps the vault's data keys with the HSM's AES key: put, get and erase", async () => {
    const dir = await hsmDataDir(labels("v"));
    const node = openNode(dir, { verifyThreads: 0 });
    try {
      const { commitment } = node.vault.put("pseudo-1", { text: "findings: none" });
      expect(node.vault.get(commitment)?.content).toEqual({ text: "findings: none" });
      expect(node.vault.erase("pseudo-1").items).toBe(1);
      expect(node.vault.get(commitment)).toBeUndefined();
      node.vault.put("pseudo-2", { text: "kept" });
    } finally {
      await node.close();
    }
    // Reopened (a new session), the wrapped key still unwraps in the HSM.
    const again = openNode(dir, { verifyThreads: 0 });
    try {
      const { commitment } = again.vault.put("pseudo-2", { text: "second" });
      expect(again.vault.get(commitment)?.content).toEqual({ text: "second" });
    } finally {
      await again.close();
    }
  });

  it("refuses clearly: wrong PIN, missing PIN, unknown token, missing module, missing key", async () => {
    const dir = await hsmDataDir(labels("e"));
    const config = readConfig(dir);
    const keys = config.keys as Pkcs11KeyConfig;
    process.env[hsm.pinEnv] = "000000";
    try {
      expect(codeOf(() => openNode(dir, { verifyThreads: 0 }))).toBe("KEY_BACKEND_PIN_INCORRECT");
    } finally {
      process.env[hsm.pinEnv] = hsm.pin;
    }
    const set = (k: Partial<Pkcs11KeyConfig>) => writeConfig(dir, { ...config, keys: { ...keys, ...k } });
    set({ pinEnv: "RADLEDGER_TEST_UNSET_PIN" });
    expect(codeOf(() => openNode(dir, { verifyThreads: 0 }))).toBe("KEY_BACKEND_PIN_MISSING");
    set({ token: "no-such-token" });
    expect(codeOf(() => openNode(dir, { verifyThreads: 0 }))).toBe("KEY_BACKEND_TOKEN_NOT_FOUND");
    set({ module: join(work.path, "no-such-module.so") });
    expect(codeOf(() => openNode(dir, { verifyThreads: 0 }))).toBe("KEY_BACKEND_UNAVAILABLE");
    set({ labels: { ...keys.labels, vault: "no-such-key" } });
    expect(codeOf(() => openNode(dir, { verifyThreads: 0 }))).toBe("KEY_BACKEND_KEY_NOT_FOUND");
    // The writer lock was released each time: the right config opens.
    set({});
    const node = openNode(dir, { verifyThreads: 0 });
    await node.close();
    // The PIN from a file instead of the environment.
    const pinFile = join(work.path, "hsm.pin");
    writeFileSync(pinFile, `${hsm.pin}\n`, { mode: 0o600 });
    writeConfig(dir, {
      ...config,
      keys: {
        backend: "pkcs11",
        module: keys.module,
        token: keys.token,
        labels: keys.labels,
        logVerifierKey: keys.logVerifierKey,
        pinFile,
      },
    });
    process.env[hsm.pinEnv] = "";
    try {
      const viaFile = openNode(dir, { verifyThreads: 0 });
      await viaFile.close();
    } finally {
      process.env[hsm.pinEnv] = hsm.pin;
    }
  });

  it("rotates the log key in the HSM: the rotation is on the log, later checkpoints verify with the new key, verify passes trusting either key", async () => {
    const dir = await hsmDataDir(labels("r"));
    const node = openNode(dir, { verifyThreads: 0 });
    let oldKey: string;
    let newKey: string;
    try {
      const old = node.logKey;
      oldKey = node.verifierKey;
      await enrol(node, dir, "dr-before");
      const r = await rotateLogKey(node);
      newKey = r.newVerifierKey;
      expect(r.oldVerifierKey).toBe(oldKey);
      expect(node.verifierKey).toBe(newKey);
      const next = parseVerifierKey(crypto, newKey).publicKey;

      // The transition checkpoint carries both signatures.
      expect(parseSignedNote(r.checkpoint).signatures).toHaveLength(2);
      openCheckpoint(r.checkpoint, [verifierOf(node, old.publicKey)], ORIGIN);
      openCheckpoint(r.checkpoint, [verifierOf(node, next)], ORIGIN);

      // The rotation entry: the institution's key.rotated, signed by the old key, naming the new one.
      const [stored] = node.store.readEntries(r.index, r.index + 1);
      const entry = JSON.parse(Buffer.from(stored!.bytes).toString("utf8")) as {
        type: string;
        key: string;
        body: Record<string, string>;
      };
      expect(entry.type).toBe("key.rotated");
      expect(entry.key).toBe(actorKeyId(crypto, old.publicKey));
      expect(entry.body).toMatchObject({ actorId: "institution", logVerifierKey: newKey });

      // Later checkpoints: the new key only; the institution now signs with the new key.
      await enrol(node, dir, "dr-after");
      await node.appender.append(
        signAsInstitution(node, "role.granted", { actorId: "dr-after", role: "auditor" }),
      );
      const later = node.ledger.latestCheckpoint!;
      expect(parseSignedNote(later).signatures).toHaveLength(1);
      openCheckpoint(later, [verifierOf(node, next)], ORIGIN);
      expect(codeOf(() => openCheckpoint(later, [verifierOf(node, old.publicKey)], ORIGIN))).toBe(
        "NOTE_NO_VALID_SIGNATURE",
      );
    } finally {
      await node.close();
    }
    // The config names the new key; the old key pair is gone from the token.
    expect((readConfig(dir).keys as Pkcs11KeyConfig).logVerifierKey).toBe(newKey);
    const t = token();
    try {
      expect(t.has("r-log")).toBe(false);
    } finally {
      t.close();
    }
    // Reopened, the node signs with the new key.
    const again = openNode(dir, { verifyThreads: 0 });
    try {
      expect(again.verifierKey).toBe(newKey);
    } finally {
      await again.close();
    }
    expect(await auditDataDir(dir, { threads: 0 })).toMatchObject({ ok: true });
    expect(await auditDataDir(dir, { threads: 0, trustedLogKeys: [oldKey] })).toMatchObject({ ok: true });
    expect(await auditDataDir(dir, { threads: 0, trustedLogKeys: [strangerKey(ORIGIN)] })).toMatchObject({
      ok: false,
      failure: { code: "NOTE_NO_VALID_SIGNATURE" },
    });
  });
});

describe("the command line with an HSM", () => {
  it("init --keys pkcs11, key, key rotate and verify --data", async () => {
    const dir = join(work.path, "cli-hsm");
    const init = await runCli([
      "init",
      "--data",
      dir,
      "--origin",
      ORIGIN,
      "--keys",
      "pkcs11",
      "--pkcs11-module",
      hsm.module,
      "--pkcs11-token",
      hsm.token,
      "--pin-env",
      hsm.pinEnv,
      "--log-label",
      "c-log",
      "--vault-label",
      "c-vault",
      "--witness-label",
      "c-witness",
      "--json",
    ]);
    expect(init.code, init.stderr).toBe(0);
    const made = JSON.parse(init.stdout) as { verifierKey: string };
    expect((readConfig(dir).keys as Pkcs11KeyConfig).logVerifierKey).toBe(made.verifierKey);
    expect((await runCli(["key", "--data", dir])).stdout.trim()).toBe(made.verifierKey);
    const rotated = await runCli(["key", "rotate", "--data", dir, "--json"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const r = JSON.parse(rotated.stdout) as { newVerifierKey: string };
    expect((await runCli(["key", "--data", dir])).stdout.trim()).toBe(r.newVerifierKey);
    const verify = await runCli(["verify", "--data", dir, "--quiet", "--log-key", made.verifierKey]);
    expect(verify.code, verify.stderr).toBe(0);
  });
});

describe("log key rotation (file backend)", () => {
  it("radledger key rotate: the old key file is replaced, verify --data passes with the new or the old key", async () => {
    const dir = join(work.path, "file-rotate");
    expect((await runCli(["init", "--data", dir, "--origin", ORIGIN])).code).toBe(0);
    const oldKey = (await runCli(["key", "--data", dir])).stdout.trim();
    const rotated = await runCli(["key", "rotate", "--data", dir, "--json"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const r = JSON.parse(rotated.stdout) as { oldVerifierKey: string; newVerifierKey: string; index: number };
    expect(r).toMatchObject({ oldVerifierKey: oldKey, index: 2 });
    expect((await runCli(["key", "--data", dir])).stdout.trim()).toBe(r.newVerifierKey);
    expect(readFileSync(join(dir, "keys", "log.key"), "utf8")).not.toContain(
      oldKey.split("+")[1], // the old key ID
    );
    expect(existsSync(join(dir, "keys", "log.next.key"))).toBe(false);
    const verify = await runCli(["verify", "--data", dir, "--quiet"]);
    expect(verify.code, verify.stderr).toBe(0);
    const withOld = await runCli(["verify", "--data", dir, "--quiet", "--log-key", oldKey]);
    expect(withOld.code, withOld.stderr).toBe(0);
  });

  it("only the log key itself rotates the log key: an admin's key.rotated for the institution is refused", async () => {
    const dir = join(work.path, "file-admin");
    await initDataDir(dir, { origin: ORIGIN }, nodeFactory);
    const node = openNode(dir, { verifyThreads: 0 });
    try {
      const admin = readActorKey(crypto, dir, "admin")!;
      const attempt = signAs(crypto, admin, ORIGIN, "key.rotated", {
        actorId: "institution",
        oldKey: actorKeyId(crypto, node.logKey.publicKey),
        newPublicKey: toBase64(crypto.ed25519PublicKey(crypto.randomBytes(32))),
      });
      await expect(node.appender.append(attempt)).rejects.toMatchObject({ code: "ROLE_NOT_PERMITTED" });
      // A rotation without the new verifier key is refused too.
      const bare = signAsInstitution(node, "key.rotated", {
        actorId: "institution",
        oldKey: actorKeyId(crypto, node.logKey.publicKey),
        newPublicKey: toBase64(crypto.ed25519PublicKey(crypto.randomBytes(32))),
      });
      await expect(node.appender.append(bare)).rejects.toMatchObject({ code: "INPUT_INVALID" });
    } finally {
      await node.close();
    }
  });
});

describe("an interrupted rotation", () => {
  it("reached the log but not the key file: the next open makes the pending key current; without it the node refuses to open", async () => {
    const dir = join(work.path, "file-interrupted");
    await initDataDir(dir, { origin: ORIGIN }, nodeFactory);
    const node = openNode(dir, { verifyThreads: 0 });
    const old = node.logKey;
    const candidate = node.keys.createLogKey();
    const newKey = formatVerifierKey(candidate.key);
    try {
      // What rotateLogKey does, up to the moment the process dies: the entry is on the log.
      node.useLogSigners([old, candidate.key]);
      await node.appender.append(
        signAsInstitution(node, "key.rotated", {
          actorId: "institution",
          oldKey: actorKeyId(crypto, old.publicKey),
          newPublicKey: toBase64(candidate.key.publicKey),
          logVerifierKey: newKey,
        }),
      );
    } finally {
      await node.close();
    }
    expect(existsSync(join(dir, "keys", "log.next.key"))).toBe(true);
    const copy = join(work.path, "file-interrupted-copy");
    cpSync(dir, copy, { recursive: true });

    const again = openNode(dir, { verifyThreads: 0 });
    try {
      expect(again.verifierKey).toBe(newKey);
      await enrol(again, dir, "dr-after");
      openCheckpoint(again.ledger.latestCheckpoint!, [verifierOf(again, candidate.key.publicKey)], ORIGIN);
    } finally {
      await again.close();
    }
    expect(existsSync(join(dir, "keys", "log.next.key"))).toBe(false);
    expect(await auditDataDir(dir, { threads: 0 })).toMatchObject({ ok: true });

    // The same state without the pending key: the node does not sign with the retired key.
    rmSync(join(copy, "keys", "log.next.key"));
    expect(codeOf(() => openNode(copy, { verifyThreads: 0 }))).toBe("KEY_BACKEND_KEY_NOT_FOUND");
  });
});

describe("bundles across a log key rotation", () => {
  it("a bundle exported after the rotation verifies with only the old key trusted, or the new one; not with a stranger's", async () => {
    const t = await makeNode();
    try {
      const oldKey = t.node.verifierKey;
      const rad = await t.enrol("rad-1", ["radiologist"]);
      const study = (await t.node.appender.append(signAsInstitution(t.node, "study.registered", studyBody())))
        .leafHash;
      const report = (
        await t.node.appender.append(t.sign(rad, "report.opened", { reportKind: "diagnostic" }, { study }))
      ).leafHash;
      const { newVerifierKey } = await rotateLogKey(t.node);
      // After the rotation the institution signs with the new key; the checkpoint is the new key's.
      await t.node.appender.append(signAsInstitution(t.node, "study.registered", studyBody()));
      const { manifest, members } = prepareBundle(t.node, { kind: "report", id: report });
      expect(manifest.logKey).toBe(newVerifierKey);
      const files: BundleMember[] = [];
      for await (const m of members) files.push(m);
      const verify = (logKeys: string[]) => verifyBundle(files, { crypto, logKeys });

      const withOld = await verify([oldKey]);
      expect(withOld.failures).toEqual([]);
      expect(withOld.ok).toBe(true);
      expect(withOld.log?.keyPinned).toBe(true);
      expect((await verify([newVerifierKey])).ok).toBe(true);
      const stranger = await verify([strangerKey(TEST_ORIGIN)]);
      expect(stranger.ok).toBe(false);
      expect(stranger.failures.map((f) => f.code)).toContain("NOTE_NO_VALID_SIGNATURE");

      // The exporter put the rotation entry in the bundle, whatever the record.
      const types = manifest.entries.map((i) => t.node.store.readEntries(i, i + 1)[0]!.type);
      expect(types).toContain("key.rotated");
    } finally {
      await t.close();
    }
  });
});

function strangerKey(origin: string): string {
  return formatVerifierKey(ed25519Verifier(crypto, origin, crypto.ed25519PublicKey(crypto.randomBytes(32))));
}
