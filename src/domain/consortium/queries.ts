/**
 * Consortium-wide questions, answered from this node's own log and its mirrors of its peers' logs
 * (mirror.ts): no request leaves the node, and every mirrored entry was checked against a cosigned
 * checkpoint of its log before it was stored.
 *
 *  - grants, in any peer's log, whose grantee is this institution (consent.granted with grantee
 *    `institution:<this origin>`);
 *  - datasets peers shared with this institution (dataset.shared whose grantee is this origin or
 *    this institution's name);
 *  - a patient's access history across institutions, through pseudonym links confirmed in both
 *    directions (entries.ts).
 */
import type { JsonObject } from "../../core/canonical-json.js";
import type { StateReader } from "../../ports/storage.js";
import { accessHistory, type AccessView } from "../access/queries.js";
import { grantStatus, grantsToGrantee, type GrantView } from "../consent/queries.js";
import { datasetShares, listDatasets } from "../datasets/queries.js";
import type { DatasetDoc } from "../datasets/state.js";
import { linksOf } from "./state.js";

/** One log as seen from this node: its own, or a mirror. */
export interface LogView {
  readonly origin: string;
  readonly state: StateReader;
}

export interface OriginGrant extends GrantView {
  readonly origin: string;
}

/** Grants in peers' logs that name this institution as grantee, with their status now. */
export function grantsNamingInstitution(
  own: LogView,
  mirrors: readonly LogView[],
  at: string = new Date().toISOString(),
): OriginGrant[] {
  return mirrors.flatMap((m) =>
    grantsToGrantee(m.state, "institution", own.origin).map((g) => ({
      ...g,
      status: grantStatus(g, at),
      origin: m.origin,
    })),
  );
}

export interface SharedDataset {
  readonly origin: string;
  readonly dataset: DatasetDoc;
  readonly share: JsonObject;
}

/** Datasets that peers shared with this institution (by origin or by institution name). */
export function datasetsSharedWith(
  own: LogView & { readonly name: string },
  mirrors: readonly LogView[],
): SharedDataset[] {
  const names = new Set([own.origin, own.name]);
  const out: SharedDataset[] = [];
  for (const m of mirrors) {
    for (
      let after: number | undefined = undefined, first = true;
      first || after !== undefined;
      first = false
    ) {
      const datasets = listDatasets(m.state, { limit: 1000, ...(after === undefined ? {} : { after }) });
      for (const dataset of datasets.items) {
        for (let a: number | undefined = undefined, f = true; f || a !== undefined; f = false) {
          const shares = datasetShares(m.state, dataset.id, {
            limit: 1000,
            ...(a === undefined ? {} : { after: a }),
          });
          for (const share of shares.items)
            if (typeof share.grantee === "string" && names.has(share.grantee))
              out.push({ origin: m.origin, dataset, share });
          a = shares.next;
        }
      }
      after = datasets.next;
    }
  }
  return out;
}

export interface LinkedPseudonym {
  readonly origin: string;
  readonly pseudonym: string;
  /** Both logs carry the patient's statement: only then are histories joined. */
  readonly confirmed: boolean;
}

/** The patient's links from this log, each checked for the reciprocal statement in the peer's mirror. */
export function linkedPseudonyms(
  own: LogView,
  mirrors: readonly LogView[],
  patient: string,
): LinkedPseudonym[] {
  const byOrigin = new Map(mirrors.map((m) => [m.origin, m]));
  return linksOf(own.state, patient).map((link) => {
    const peer = byOrigin.get(link.origin);
    const confirmed =
      peer !== undefined &&
      peer.state
        .lookup("patient.linked.from", `${own.origin} ${patient}`)
        .some((r) => r.value === link.pseudonym);
    return { origin: link.origin, pseudonym: link.pseudonym, confirmed };
  });
}

export interface ConsortiumAccessHistory {
  readonly origin: string;
  readonly pseudonym: string;
  readonly accesses: AccessView[];
}

/**
 * Who accessed the patient's imaging anywhere in the consortium: this log's history, then each
 * confirmed link's history from the peer's mirror (newest first within each log).
 */
export function consortiumAccessHistory(
  own: LogView,
  mirrors: readonly LogView[],
  patient: string,
  limit = 1000,
): ConsortiumAccessHistory[] {
  const byOrigin = new Map(mirrors.map((m) => [m.origin, m]));
  const out: ConsortiumAccessHistory[] = [
    { origin: own.origin, pseudonym: patient, accesses: accessHistory(own.state, patient, { limit }).items },
  ];
  for (const link of linkedPseudonyms(own, mirrors, patient)) {
    if (!link.confirmed) continue;
    const peer = byOrigin.get(link.origin)!;
    out.push({
      origin: link.origin,
      pseudonym: link.pseudonym,
      accesses: accessHistory(peer.state, link.pseudonym, { limit }).items,
    });
  }
  return out;
}
