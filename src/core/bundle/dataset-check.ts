/**
 * A dataset bundle's own checks (docs/bundle-format.md §4 step 6): the sealed version's items and
 * annotations are as many as the seal states and hash to its manifest root (src/core/merkle/manifest.ts),
 * and their signers are its contributor list. A version has 10^5 items, so the check runs as the
 * entries are read: the subject dataset's additions before the version's seal are kept and their
 * content hashes decoded on arrival, without a pass over every entry of the bundle at the end; the
 * manifest's tree is then hashed by the TreeHasher (on all threads in the CLI). The entry bodies are the
 * exporter's: every reader tolerates a missing or mistyped member.
 */
import { toHex } from "../bytes.js";
import { decodeHash, gather, sortedUniqueOrder } from "../merkle/manifest.js";
import type { TreeHasher } from "./entry-check.js";
import type { Failures } from "./failures.js";
import { MANIFEST_PATH } from "./format.js";
import { refOf, str, type Included } from "./included.js";
import type { KindResult } from "./completeness.js";

const short = (id: string): string => id.slice(0, 12);

export class DatasetCheck {
  /** The version's members counted by signer and kind: all the check needs of the members' entries
   * once read (the verifier keeps no member entry, so that 10^5 parsed entries are not held to the end). */
  readonly #credit = new Map<string, { items: number; annotations: number; vendor: number }>();
  #items = 0;
  #annotations = 0;
  #seal: Included | undefined;
  #shares = 0;
  #validations = 0;
  /** Content hashes of items then annotations as they arrive, decoded (32 bytes each). */
  #values: Uint8Array = new Uint8Array(32 * 1024);
  #count = 0;
  #malformed = false;

  /** `dataset` is the manifest's subject id (the dataset.created entry's leaf hash, hex). */
  constructor(
    private readonly dataset: string,
    private readonly version: number,
  ) {}

  /**
   * Each entry of the bundle, in log order. True when the entry is a member of the version: the
   * check has taken what it needs of it, and the verifier need not keep it.
   */
  observe(it: Included): boolean {
    const e = it.entry;
    let kind: "items" | "annotations" | "vendor";
    let field: string | undefined;
    switch (e.type) {
      case "dataset.shared":
        this.#shares++;
        return false;
      case "model.validation.recorded":
        this.#validations++;
        return false;
      case "dataset.version.sealed":
        if (!this.#seal && e.body.version === this.version && refOf(e, "dataset").includes(this.dataset))
          this.#seal = it;
        return false;
      case "dataset.item.added":
        [kind, field] = ["items", "manifestRoot"];
        break;
      case "dataset.annotation.added":
        [kind, field] = ["annotations", "contentHash"];
        break;
      case "dataset.contribution.vendor":
        kind = "vendor";
        break;
      default:
        return false;
    }
    // Members of the version: this dataset's additions logged before its seal.
    if (this.#seal || !refOf(e, "dataset").includes(this.dataset)) return false;
    const c = this.#credit.get(e.actor) ?? { items: 0, annotations: 0, vendor: 0 };
    c[kind]++;
    this.#credit.set(e.actor, c);
    if (kind === "items") this.#items++;
    else if (kind === "annotations") this.#annotations++;
    if (field === undefined) return true;
    if (32 * (this.#count + 1) > this.#values.length) this.#values = grow(this.#values);
    if (decodeHash(str(e.body, field) ?? "", this.#values, 32 * this.#count)) this.#count++;
    else this.#malformed = true;
    return true;
  }

  async finish(
    created: Included | undefined,
    name: (actor: string) => string,
    findings: string[],
    failures: Failures,
    trees: TreeHasher,
  ): Promise<KindResult> {
    if (!created) return { findings, record: {} };
    const id = created.leaf;
    const seal = this.#seal;
    if (!seal) {
      failures.add(
        "BUNDLE_INCOMPLETE",
        `the seal of version ${this.version} of dataset ${short(id)} is not in the bundle`,
        MANIFEST_PATH,
      );
      return { findings, record: {} };
    }
    const items = this.#items;
    const annotations = this.#annotations;
    const sb = seal.entry.body;
    const at = seal.at;
    if (this.#malformed) {
      failures.add("ENTRY_MALFORMED", "an item or annotation carries no content hash", at);
      return { findings, record: {} };
    }
    if (items !== sb.items || annotations !== sb.annotations)
      failures.add(
        "BUNDLE_INCOMPLETE",
        `${at}: version ${this.version} has ${JSON.stringify(sb.items)} items and ${JSON.stringify(sb.annotations)} annotations; the bundle carries ${items} and ${annotations}`,
        at,
      );
    else {
      const values = this.#values.subarray(0, 32 * this.#count);
      if (
        toHex(await trees.merkleRootOfHashes(gather(values, sortedUniqueOrder(values)))) !== sb.manifestRoot
      )
        failures.add(
          "BUNDLE_INCOMPLETE",
          `${at}: the bundle's items and annotations do not hash to the sealed manifest root`,
          at,
        );
      else
        findings.push(
          `Version ${this.version} of dataset ${short(id)} is complete: its ${items} items and ${annotations} annotations hash to the sealed manifest root.`,
        );
    }
    const credit = this.#credit;
    const contributors = [...credit.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const sealed = Array.isArray(sb.contributors) ? sb.contributors : [];
    if (contributors.length !== sealed.length || contributors.some((c, i) => c !== sealed[i]))
      failures.add(
        "BUNDLE_INCOMPLETE",
        `${at}: the sealed contributor list (${sealed.length}) is not the signers of the bundle's additions (${contributors.length})`,
        at,
      );
    else
      findings.push(
        `The sealed contributor list (${contributors.length}) matches the signers of every addition.`,
      );
    const shares = this.#shares;
    const validations = this.#validations;
    if (shares + validations > 0)
      findings.push(
        `${shares} share${shares === 1 ? "" : "s"} and ${validations} model validation${validations === 1 ? "" : "s"} of this version.`,
      );
    return {
      findings,
      record: {
        dataset: id,
        version: this.version,
        seal: seal.leaf,
        manifestRoot: typeof sb.manifestRoot === "string" ? sb.manifestRoot : "",
        credit: contributors.map((c) => ({ actor: c, name: name(c), ...credit.get(c)! })),
      },
    };
  }
}

function grow(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 * b.length);
  out.set(b);
  return out;
}
