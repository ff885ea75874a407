/**
 * What a verified bundle says, for a person to read (issue 20 item 6: "show what was verified, not
 * only counts"): a report's sections with their disclosed text and attribution, an access history's
 * list of accesses, a trial's timeline, a dataset version's credits.
 *
 * Built ONLY from the bytes the core verifier checked (src/core/bundle/verify.ts): the worker copies
 * the manifest, the entries files and the disclosures as they stream past the verifier (capture()
 * below), and builds the summary only when the verification did not fail — then every entry here
 * had its signature, its signer's enrolment and its inclusion in the checkpoint checked, and every
 * disclosure opened a commitment that a verified entry carries (docs/bundle-format.md §4 steps 4–5).
 * A failed verification gets no summary at all: nothing of a tampered bundle is shown as content.
 * Names come from the verifier's signer summaries (the bundle's own enrolment entries), the credit
 * list from the core's dataset check. Pure: no DOM, no network — it runs in the Web Worker.
 */
import { toHex } from "../../core/bytes.js";
import { parseCanonicalText, type JsonObject, type JsonValue } from "../../core/canonical-json.js";
import type { CryptoSuite } from "../../core/crypto.js";
import { decodeEntry, type Entry } from "../../core/entry.js";
import { leafHash } from "../../core/merkle/hash.js";
import { decodeEntryBundle } from "../../core/tiles.js";
import { ENTRIES_PER_FILE, MANIFEST_PATH, parseManifest, type BundleKind } from "../../core/bundle/format.js";
import type { BundleReport, StreamedMember } from "../../core/bundle/types.js";

/** A person as the bundle names them: the actor id, and what its enrolment entry says, if carried. */
export interface Person {
  readonly actor: string;
  readonly name?: string;
  readonly roles?: readonly string[];
}

export interface AiSource {
  readonly vendor?: string;
  readonly model?: string;
  readonly version?: string;
  /** The radiologist's disposition of the inference's findings, if the bundle carries one. */
  readonly disposition?: string;
}

export interface SectionItem {
  readonly index: number;
  readonly type: string;
  readonly section: string;
  readonly author: Person;
  readonly role: string;
  readonly origin: string;
  readonly time: string;
  /** The disclosed text (its commitment checked), or undefined when the bundle does not disclose it. */
  readonly text?: string;
  readonly onBehalfOf?: Person;
  /** An amendment or addendum: its kind and reason code. */
  readonly amendment?: { readonly kind: string; readonly reason: string };
  readonly ai?: AiSource;
}

export interface ReportSummary {
  readonly id: string;
  readonly openedBy: Person;
  readonly opened: string;
  readonly reportKind: string;
  readonly sections: readonly SectionItem[];
  readonly consultations: readonly {
    readonly index: number;
    readonly from: Person;
    readonly to: Person;
    readonly time: string;
    readonly question?: string;
  }[];
  readonly signOffs: readonly {
    readonly index: number;
    readonly by: Person;
    readonly time: string;
    readonly attestation: string;
  }[];
}

export interface AccessItem {
  readonly index: number;
  readonly time: string;
  readonly who: Person;
  readonly part: string;
  readonly action: string;
  readonly purpose: string;
  readonly decision: string;
  readonly basis: string;
  readonly reason?: string;
  readonly review?: string;
}

export interface TimelineItem {
  readonly index: number;
  readonly time: string;
  /** subject, timepoint, read, correction */
  readonly what: string;
  readonly by: Person;
  readonly detail: string;
  /** A later correction replaced this version (docs/families/trials.md: corrections chain). */
  readonly supersededBy?: number;
  /** For a correction: the index of the version it corrects. */
  readonly corrects?: number;
}

export interface DatasetSummary {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly manifestRoot: string;
  readonly items?: number;
  readonly annotations?: number;
  readonly credit: readonly {
    readonly who: Person;
    readonly items: number;
    readonly annotations: number;
    readonly vendor: number;
  }[];
  readonly shares: readonly {
    readonly grantee: string;
    readonly purpose?: string;
    readonly expires?: string;
  }[];
}

export interface BundleSummary {
  readonly kind: BundleKind;
  readonly subject: string;
  /** The bundle held more than the worker copies for display: lists are not shown (the verdict stands). */
  readonly tooLarge?: boolean;
  readonly report?: ReportSummary;
  readonly accesses?: { readonly patient: string; readonly items: readonly AccessItem[] };
  readonly timeline?: readonly TimelineItem[];
  readonly dataset?: DatasetSummary;
}

/** What capture() copied of the bundle's files as the verifier read them. */
export interface Captured {
  manifest?: Uint8Array;
  readonly entryFiles: Uint8Array[];
  readonly disclosures: Map<string, Uint8Array>;
  bytes: number;
  overflow: boolean;
}

/** The most the worker copies for display (entries and disclosures); beyond it, no lists. */
export const CAPTURE_LIMIT = 48 * 1024 * 1024;

const ENTRIES_FILE = /^entries\/(0|[1-9][0-9]{0,8})$/;
const DISCLOSURE_FILE = /^disclosures\/([0-9a-f]{64})\.json$/;

/**
 * Passes the bundle's files through to the verifier unchanged, copying the structured ones (the
 * manifest, entries, disclosures) chunk by chunk as the verifier reads them: what is copied is
 * exactly what was verified. Payload files and DICOM instances pass uncopied.
 */
export async function* capture(
  members: AsyncIterable<StreamedMember>,
  into: Captured,
  limit = CAPTURE_LIMIT,
): AsyncGenerator<StreamedMember> {
  for await (const m of members) {
    const entries = ENTRIES_FILE.exec(m.path);
    const disclosure = DISCLOSURE_FILE.exec(m.path);
    if (m.path !== MANIFEST_PATH && !entries && !disclosure) {
      yield m;
      continue;
    }
    const parts: Uint8Array[] = [];
    let length = 0;
    const store = (): void => {
      const out = new Uint8Array(length);
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      if (m.path === MANIFEST_PATH) into.manifest = out;
      else if (entries) into.entryFiles[Number(entries[1])] = out;
      else into.disclosures.set(disclosure![1]!, out);
    };
    yield {
      path: m.path,
      size: m.size,
      async *chunks() {
        for await (const c of m.chunks()) {
          if (!into.overflow) {
            if (into.bytes + c.length > limit) {
              into.overflow = true;
              parts.length = 0;
            } else {
              // A copy: a source may reuse its buffer for the next chunk.
              parts.push(c.slice());
              into.bytes += c.length;
              length += c.length;
            }
          }
          yield c;
        }
        if (!into.overflow) store();
      },
    };
  }
}

const s = (o: JsonObject | undefined, k: string): string | undefined => {
  const v = o?.[k];
  return typeof v === "string" ? v : undefined;
};
const refs = (e: Entry, name: string): string[] => {
  const r = e.refs?.[name];
  return r === undefined ? [] : Array.isArray(r) ? r : [r];
};
const obj = (v: JsonValue | undefined): JsonObject | undefined =>
  typeof v === "object" && !Array.isArray(v) ? v : undefined;

/** A disclosure's content as text: vault content is `{ "text": … }` (src/app/vault); else its JSON. */
function contentText(bytes: Uint8Array | undefined): string | undefined {
  if (!bytes) return undefined;
  try {
    const d = obj(parseCanonicalText(new TextDecoder().decode(bytes)));
    const content = d?.content;
    if (content === undefined) return undefined;
    const text = s(obj(content), "text");
    return text ?? (typeof content === "string" ? content : JSON.stringify(content));
  } catch {
    return undefined;
  }
}

interface Held {
  readonly index: number;
  readonly leaf: string;
  readonly entry: Entry;
}

/**
 * The summary of a bundle whose verification did not fail, or undefined. `report` is the core's
 * report of the same bytes: its verdict gates everything, its signers name people, its dataset
 * record is the credit list the core recomputed.
 */
export function summarize(
  crypto: CryptoSuite,
  report: BundleReport,
  captured: Captured,
): BundleSummary | undefined {
  if (report.trust === "failed" || !captured.manifest) return undefined;
  const m = parseManifest(captured.manifest);
  const base = { kind: m.kind, subject: m.subject.id };
  if (captured.overflow) return datasetOnly(base, report, undefined) ?? { ...base, tooLarge: true };

  const held: Held[] = [];
  const byLeaf = new Map<string, Held>();
  captured.entryFiles.forEach((file, k) => {
    decodeEntryBundle(file).forEach((bytes, j) => {
      const h: Held = {
        index: m.entries[k * ENTRIES_PER_FILE + j]!,
        leaf: toHex(leafHash(crypto, bytes)),
        entry: decodeEntry(bytes),
      };
      held.push(h);
      byLeaf.set(h.leaf, h);
    });
  });
  const names = new Map<string, Person>();
  for (const sg of report.signers)
    names.set(sg.actor, {
      actor: sg.actor,
      ...(sg.displayName ? { name: sg.displayName } : {}),
      ...(sg.roles ? { roles: sg.roles } : {}),
    });
  const person = (actor: string | undefined): Person => names.get(actor ?? "") ?? { actor: actor ?? "?" };
  const text = (commitment: string | undefined): string | undefined =>
    commitment === undefined ? undefined : contentText(captured.disclosures.get(commitment));
  const of = (type: string): Held[] => held.filter((h) => h.entry.type === type);

  switch (m.kind) {
    case "report":
      return { ...base, report: reportSummary(m.subject.id, held, byLeaf, person, text, of) };
    case "access":
      return { ...base, accesses: { patient: m.subject.id, items: accessItems(of, person) } };
    case "trial":
    case "trial-subject":
      return { ...base, timeline: timeline(held, byLeaf, person) };
    case "dataset":
      return datasetOnly(base, report, { byLeaf, of, person }) ?? base;
  }
}

function reportSummary(
  id: string,
  held: Held[],
  byLeaf: Map<string, Held>,
  person: (a: string | undefined) => Person,
  text: (c: string | undefined) => string | undefined,
  of: (t: string) => Held[],
): ReportSummary {
  const opened = byLeaf.get(id);
  // The same selection as the core's report check (src/core/bundle/completeness.ts).
  const consults = of("consult.requested").filter((h) => refs(h.entry, "report").includes(id));
  const consultIds = new Set(consults.map((c) => c.leaf));
  const dispositions = new Map<string, string>();
  for (const d of of("ai.finding.disposition")) {
    const disposition = s(d.entry.body, "disposition");
    for (const inf of refs(d.entry, "inference")) if (disposition) dispositions.set(inf, disposition);
  }
  const aiOf = (e: Entry): AiSource | undefined => {
    const inf = refs(e, "inference")[0];
    if (!inf) return undefined;
    const model = byLeaf.get(refs(byLeaf.get(inf)?.entry ?? e, "model")[0] ?? "")?.entry.body;
    const disposition = dispositions.get(inf);
    return {
      ...(s(model, "vendor") ? { vendor: s(model, "vendor")! } : {}),
      ...(s(model, "name") ? { model: s(model, "name")! } : {}),
      ...(s(model, "version") ? { version: s(model, "version")! } : {}),
      ...(disposition ? { disposition } : {}),
    };
  };
  const sections: SectionItem[] = held
    .filter(
      (h) =>
        ((h.entry.type === "report.contribution" || h.entry.type === "report.amended") &&
          refs(h.entry, "report").includes(id)) ||
        (h.entry.type === "consult.answered" && refs(h.entry, "consult").some((c) => consultIds.has(c))),
    )
    .map((h) => {
      const b = h.entry.body;
      const t = text(s(b, "contentCommitment"));
      const ai = aiOf(h.entry);
      const behalf = s(b, "onBehalfOf");
      return {
        index: h.index,
        type: h.entry.type,
        section: s(b, "section") ?? "",
        author: person(h.entry.actor),
        role: s(b, "role") ?? "",
        origin: s(b, "origin") ?? "human",
        time: h.entry.time,
        ...(t === undefined ? {} : { text: t }),
        ...(behalf ? { onBehalfOf: person(behalf) } : {}),
        ...(h.entry.type === "report.amended"
          ? { amendment: { kind: s(b, "kind") ?? "amendment", reason: s(b, "reason") ?? "" } }
          : {}),
        ...(ai ? { ai } : {}),
      };
    });
  return {
    id,
    openedBy: person(opened?.entry.actor),
    opened: opened?.entry.time ?? "",
    reportKind: s(opened?.entry.body, "reportKind") ?? "",
    sections,
    consultations: consults.map((c) => {
      const question = text(s(c.entry.body, "questionCommitment"));
      return {
        index: c.index,
        from: person(c.entry.actor),
        to: person(s(c.entry.body, "to")),
        time: c.entry.time,
        ...(question === undefined ? {} : { question }),
      };
    }),
    signOffs: of("report.signed")
      .filter((h) => refs(h.entry, "report").includes(id))
      .map((h) => ({
        index: h.index,
        by: person(h.entry.actor),
        time: h.entry.time,
        attestation: s(h.entry.body, "attestation") ?? "",
      })),
  };
}

function accessItems(of: (t: string) => Held[], person: (a: string | undefined) => Person): AccessItem[] {
  const reviews = new Map<string, string>();
  for (const r of of("access.reviewed"))
    for (const a of refs(r.entry, "access")) reviews.set(a, s(r.entry.body, "outcome") ?? "reviewed");
  return of("access.recorded").map((h) => {
    const b = h.entry.body;
    const basis = obj(b.basis);
    const reason = s(b, "reason");
    const review = reviews.get(h.leaf);
    return {
      index: h.index,
      time: h.entry.time,
      who: person(s(b, "actor")),
      part: partText(b.part),
      action: s(b, "action") ?? "",
      purpose: s(b, "purpose") ?? "",
      decision: s(b, "decision") ?? "",
      basis: basis ? [s(basis, "kind"), s(basis, "reason")].filter(Boolean).join(": ") : "",
      ...(reason ? { reason } : {}),
      ...(review ? { review } : {}),
    };
  });
}

/** An access's `part` (decide()'s: a study, series, report or section) in words. */
function partText(part: JsonValue | undefined): string {
  const p = obj(part);
  if (!p) return typeof part === "string" ? part : "";
  return Object.entries(p)
    .flatMap(([k, v]) =>
      typeof v === "string"
        ? [`${k} ${/^[0-9a-f]{64}$/.test(v) ? v.slice(0, 12) : v}`]
        : typeof v === "number"
          ? [`${k} ${v}`]
          : [],
    )
    .join(", ");
}

function timeline(held: Held[], byLeaf: Map<string, Held>, person: (a: string | undefined) => Person) {
  const items: TimelineItem[] = [];
  const superseded = new Map<string, number>();
  for (const h of held)
    if (h.entry.type === "trial.correction")
      for (const c of refs(h.entry, "corrects")) superseded.set(c, h.index);
  for (const h of held) {
    const b = h.entry.body;
    let what: string;
    let detail: string;
    switch (h.entry.type) {
      case "trial.registered":
        what = "trial";
        detail = [s(b, "sponsor"), s(b, "protocolId"), s(b, "title")].filter(Boolean).join(" · ");
        break;
      case "trial.subject.enrolled":
        what = "subject";
        detail = [s(b, "subject"), s(b, "site") && `site ${s(b, "site")}`].filter(Boolean).join(" · ");
        break;
      case "trial.timepoint.imaged":
        what = "timepoint";
        detail = `${s(b, "timepoint") ?? ""} · ${s(b, "modality") ?? ""} · ${num(b.instanceCount)} instances`;
        break;
      case "trial.read.recorded":
        what = "read";
        detail = readDetail(b);
        break;
      case "trial.correction": {
        what = "correction";
        const tp = obj(b.timepoint);
        const read = obj(b.read);
        detail = `reason ${s(b, "reason") ?? "?"}${tp ? ` · timepoint images: ${s(tp, "modality") ?? ""} ${num(tp.instanceCount)} instances` : ""}${read ? ` · read: ${readDetail(read)}` : ""}`;
        break;
      }
      default:
        continue;
    }
    const corrects = refs(h.entry, "corrects")[0];
    const target = corrects === undefined ? undefined : byLeaf.get(corrects)?.index;
    const by = superseded.get(h.leaf);
    items.push({
      index: h.index,
      time: h.entry.time,
      what,
      by: person(h.entry.actor),
      detail,
      ...(by === undefined ? {} : { supersededBy: by }),
      ...(target === undefined ? {} : { corrects: target }),
    });
  }
  return items;
}

const num = (v: JsonValue | undefined): string => (typeof v === "number" ? String(v) : "?");

function readDetail(b: JsonObject): string {
  return [
    b.blinded === true ? "blinded" : b.blinded === false ? "unblinded" : undefined,
    s(b, "criteria"),
    s(b, "response") && `response ${s(b, "response")}`,
  ]
    .filter(Boolean)
    .join(" · ");
}

/** A dataset version: the credit list is the core's (recomputed from signed entries, checked against the seal). */
function datasetOnly(
  base: { kind: BundleKind; subject: string },
  report: BundleReport,
  held:
    | { byLeaf: Map<string, Held>; of: (t: string) => Held[]; person: (a: string | undefined) => Person }
    | undefined,
): BundleSummary | undefined {
  if (base.kind !== "dataset") return undefined;
  const r = report.record;
  const credit = Array.isArray(r?.credit) ? r.credit : [];
  const seal = s(r, "seal");
  const sealBody = seal ? held?.byLeaf.get(seal)?.entry.body : undefined;
  const version = typeof r?.version === "number" ? r.version : 0;
  return {
    ...base,
    ...(held ? {} : { tooLarge: true }),
    dataset: {
      id: base.subject,
      name: s(held?.byLeaf.get(base.subject)?.entry.body, "name") ?? "",
      version,
      manifestRoot: s(r, "manifestRoot") ?? "",
      ...(typeof sealBody?.items === "number" ? { items: sealBody.items } : {}),
      ...(typeof sealBody?.annotations === "number" ? { annotations: sealBody.annotations } : {}),
      credit: credit.flatMap((c) => {
        const o = obj(c);
        if (!o) return [];
        const actor = s(o, "actor") ?? "?";
        const num = (k: string): number => {
          const v = o[k];
          return typeof v === "number" ? v : 0;
        };
        return [
          {
            who: held?.person(actor) ?? { actor },
            items: num("items"),
            annotations: num("annotations"),
            vendor: num("vendor"),
          },
        ];
      }),
      shares: (held?.of("dataset.shared") ?? [])
        .filter((h) => !seal || refs(h.entry, "version").includes(seal))
        .map((h) => ({
          grantee: s(h.entry.body, "grantee") ?? "",
          ...(s(h.entry.body, "purpose") ? { purpose: s(h.entry.body, "purpose")! } : {}),
          ...(s(h.entry.body, "expires") ? { expires: s(h.entry.body, "expires")! } : {}),
        })),
    },
  };
}
