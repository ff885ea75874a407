import { expect, test } from "vitest";
import fc from "fast-check";
import { badSignatures, packTasks, signatureChecks, unpackTasks, type EntryTask } from "./entry-check.js";

test("tasks cross threads intact: pack then unpack gives the same tasks", () => {
  const task = fc.record({
    index: fc.nat({ max: 2 ** 40 }),
    entry: fc.uint8Array({ maxLength: 40 }),
    publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  });
  fc.assert(
    fc.property(fc.array(task, { maxLength: 8 }), (tasks: EntryTask[]) => {
      const { data, offsets, indexes } = packTasks(tasks);
      expect(unpackTasks(data, offsets, indexes)).toEqual(tasks);
    }),
  );
});

test("badSignatures (one reused message buffer) gives the verdicts of signatureChecks", async () => {
  const { nobleCrypto } = await import("../crypto-noble.js");
  const { signEntry } = await import("../entry.js");
  const seed = new Uint8Array(32).fill(5);
  const publicKey = nobleCrypto.ed25519PublicKey(seed);
  const entry = (note: string): Uint8Array =>
    signEntry(
      nobleCrypto,
      {
        v: 1,
        type: "test.entry",
        time: "2026-01-02T03:04:05.000Z",
        origin: "test.example/log",
        actor: "a",
        key: "0".repeat(32),
        body: { note },
      },
      seed,
    ).bytes;
  // Good entries of growing size (past the buffer's first 4 KiB), one with a flipped signature
  // byte, bytes that are no entry, and a good entry after a larger one (a message shorter than the
  // buffer's previous contents).
  const good = [entry("a"), entry("b".repeat(5000)), entry("c")];
  const flipped = entry("d").slice();
  const inSignature = new TextDecoder().decode(flipped).indexOf('"sig":"') + 10;
  flipped[inSignature] = flipped[inSignature] === 0x41 ? 0x42 : 0x41; // another base64 digit
  const entries = [good[0]!, flipped, new Uint8Array([1, 2, 3]), good[1]!, good[2]!, entry("e".repeat(9000))];
  const tasks = entries.map((e, index) => ({ index, entry: e, publicKey }));
  const verify = (k: Uint8Array, m: Uint8Array, s: Uint8Array): boolean => nobleCrypto.ed25519Verify(k, m, s);
  const { signatures, bad } = signatureChecks(tasks);
  for (const { i, check } of signatures)
    if (!verify(check.publicKey, check.message, check.signature)) bad.push(i);
  expect(badSignatures(tasks, verify)).toEqual(bad.sort((a, b) => a - b));
  expect(badSignatures(tasks, verify)).toEqual([1, 2]);
});
