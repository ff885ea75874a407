/**
 * The demo scenario (issue: record families), seeded through the real append path: every entry is
 * signed by its actor's key and admitted by the same rules as in production. Demo actors' keys are
 * held by the node (DIR/keys/actors) so the demo can be explored from the CLI and the API.
 *
 * Two institutions: the demo log (Demo Hospital) and a partner hospital with a log of its own in
 * DIR/partner. Everything is synthetic: identifiers are invented ("DEMO-MRN-…", UIDs under a made-up
 * root) and only their keyed pseudonyms reach the ledger; report text goes to the vault.
 */
import { join } from "node:path";
import { initDataDir } from "../init.js";
import type { NodeFactory, RadledgerNode } from "../node.js";
import { demoContext, PARTNER_ORIGIN, studyBody } from "./context.js";
import { seedClinical, seedReadingDraft } from "./clinical.js";
import { seedDataset, seedTrial } from "./research.js";
import { seedReportedAccess } from "./reported.js";

export { DEMO_ORIGIN, PARTNER_ORIGIN, demoContext, type DemoContext } from "./context.js";

/** Seeds the demo into an initialised node; `factory` opens the partner hospital's log beside it. */
export async function seedDemo(node: RadledgerNode, factory: NodeFactory): Promise<string> {
  const d = demoContext(node);
  const scene = await seedClinical(d);
  await seedTrial(d, scene);
  await seedDataset(d, scene);
  await seedReadingDraft(d, scene);
  await seedReportedAccess(d);
  await seedPartner(node.dir, factory);
  return `${node.ledger.size} entries`;
}

/** The partner hospital: a second institution with its own log, key and staff. */
async function seedPartner(dir: string, factory: NodeFactory): Promise<void> {
  const partnerDir = join(dir, "partner");
  await initDataDir(partnerDir, { origin: PARTNER_ORIGIN, institutionName: "Partner Hospital" }, factory);
  const partner = factory.openNode(partnerDir, { verifyThreads: 0 });
  try {
    const d = demoContext(partner);
    await d.enrol("rad-msk-1", {
      kind: "staff",
      roles: ["radiologist"],
      displayName: "Dr Kai Bones",
      specialty: "musculoskeletal-imaging",
    });
    await d.append(d.institution, "study.registered", studyBody(d, "PARTNER-MRN-0101", 101, "MR", "KNEE"));
  } finally {
    await partner.close();
  }
}
