/**
 * `radledger erase patient` while `radledger serve` holds the data directory: the command goes to the
 * serving node over its local socket, and afterwards no file of the directory — read while the node
 * still runs, and after it stopped — holds the patient's texts, data key or wrapped key.
 */
import { afterAll, expect, test } from "vitest";
import { runCli, startServe } from "../helpers/cli.js";
import { needlesOf, patientKeyOf, reportTexts, scanDataDir } from "../helpers/erasure-scan.js";
import { fakePseudonym } from "../helpers/fixtures.js";
import { makeNode, type TestNode } from "../helpers/node.js";

let t: TestNode | undefined;
let server: Awaited<ReturnType<typeof startServe>> | undefined;
afterAll(async () => {
  await server?.stop();
  await t?.close();
});

test("erase through the serving node leaves nothing of the patient in the data directory", async () => {
  t = await makeNode();
  const patient = fakePseudonym();
  const texts = reportTexts("serve");
  for (const text of texts) t.node.vault.put(patient, { text });
  const needles = needlesOf(texts, patientKeyOf(t.dir, patient));
  await t.node.close(); // the directory stays: `radledger serve` opens it next
  server = await startServe(t.dir);

  const erase = await runCli(["erase", "patient", "--data", t.dir, "--patient", patient, "--yes", "--json"]);
  expect(erase.code, erase.stderr).toBe(0);
  expect(JSON.parse(erase.stdout)).toEqual({ recorded: true, items: 7 });
  expect(scanDataDir(t.dir, needles)).toEqual([]); // the node still runs

  await server.stop();
  expect(scanDataDir(t.dir, needles)).toEqual([]);
});
