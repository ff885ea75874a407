/**
 * The DICOMweb gatekeeper's decision and record (docs/design.md §6.6): for one request about a study,
 * series or instance, find the registered study through its keyed pseudonym, ask decide()
 * (src/domain/consent/decide.ts), and append the access.recorded entry signed by the institution —
 * permit or deny — before the proxy serves anything (appendAccessRecord, shared with the JSON API's
 * gatekeeper). Defines the DicomwebAuthorizer contract that the proxy of src/api/dicomweb.ts calls
 * (here, so that the API edge depends on the application and not the other way round), and
 * implements it.
 *
 * Orthanc ↔ ledger: the Study Instance UID of the request maps to the ledger's study through
 * node.pseudonym("study", uid) → index study.key → the study.registered entry id; series and
 * instances through node.pseudonym("series" | "instance", uid). Raw UIDs never leave this function.
 */
import { formatTime } from "../core/entry.js";
import { RadledgerError, toRadledgerError } from "../core/errors.js";
import { accessRecordFor } from "../domain/access/entries.js";
import type { BreakGlassReason } from "../domain/access/break-glass.js";
import { decide, type AccessQuery } from "../domain/consent/decide.js";
import type { AccessAction, AccessContext, Part, PurposeOfUse } from "../domain/consent/entries.js";
import { getStudy } from "../domain/imaging/state.js";
import { appendAccessRecord, justificationCommitment } from "./gatekeeper.js";
import type { RadledgerNode } from "./node.js";
import { registeredStudyId } from "./register-study.js";

export interface DicomwebTarget {
  readonly studyUid: string;
  readonly seriesUid?: string;
  readonly instanceUid?: string;
}

export interface DicomwebAccessRequest {
  /** The authenticated actor's id. */
  readonly actor: string;
  readonly target: DicomwebTarget;
  readonly action: AccessAction;
  readonly purpose: PurposeOfUse;
  /** A break-glass reason code and its required justification (to the vault on a permit). */
  readonly breakGlass?: { readonly reason: BreakGlassReason; readonly justification: string };
  readonly context?: AccessContext;
}

export type DicomwebDecision =
  | {
      readonly decision: "permit";
      /**
       * When present, the permit's access entry is still being made durable: the proxy may already
       * ask the archive (the decision is taken) but sends the client nothing until this resolves,
       * and nothing at all if it rejects. Overlaps the commit with the archive's latency.
       */
      readonly recorded?: Promise<void>;
    }
  | { readonly decision: "deny"; readonly reason: string }
  /** The study is not registered on this node: nothing to decide on, nothing served. */
  | { readonly decision: "unknown-study" };

/**
 * Decides an access and records it (permit or deny). A deny is recorded before it returns; a permit
 * either is too, or carries the pending record in `recorded`.
 */
export interface DicomwebAuthorizer {
  authorize(request: DicomwebAccessRequest): Promise<DicomwebDecision>;
}

export class LedgerDicomwebAuthorizer implements DicomwebAuthorizer {
  constructor(private readonly node: RadledgerNode) {}

  async authorize(r: DicomwebAccessRequest): Promise<DicomwebDecision> {
    const node = this.node;
    const studyId = registeredStudyId(node, node.pseudonym("study", r.target.studyUid));
    if (studyId === undefined) return { decision: "unknown-study" };
    const study = getStudy(node.store, studyId)!;
    let part: Part = { kind: "study", id: studyId };
    if (r.target.instanceUid !== undefined) {
      part = { kind: "instance", id: node.pseudonym("instance", r.target.instanceUid), study: studyId };
    } else if (r.target.seriesUid !== undefined) {
      const seriesKey = node.pseudonym("series", r.target.seriesUid);
      // A series the registration does not list is decided as its study (access.recorded refuses
      // a series part that is not in the study: ACCESS_PART_INVALID).
      const listed = (study.seriesKeys as string[] | undefined)?.includes(seriesKey) === true;
      if (listed) part = { kind: "series", id: seriesKey, study: studyId };
    }
    const now = node.clock.now();
    const q: AccessQuery = {
      actor: r.actor,
      patient: study.patient,
      part,
      purpose: r.purpose,
      time: formatTime(now),
      ...(r.breakGlass === undefined ? {} : { breakGlass: { reason: r.breakGlass.reason } }),
      ...(r.context === undefined ? {} : { context: r.context }),
    };
    const d = decide(node.store, q, node.policy);
    const breaksGlass = d.decision === "permit" && d.basis.kind === "break-glass";
    const { body, refs } = accessRecordFor(
      q,
      r.action,
      d,
      breaksGlass
        ? { reasonCommitment: justificationCommitment(node, study.patient, r.breakGlass!.justification) }
        : {},
    );
    const record = async (): Promise<void> => {
      try {
        await appendAccessRecord(node, body, refs, now);
      } catch (e) {
        const err = toRadledgerError(e);
        if (d.decision !== "permit" || err.code !== "ACCESS_BASIS_INVALID") throw err;
        // The basis changed between decide() and the record (e.g. a revocation in the same batch):
        // the permit is not on the log, so nothing may be served; record the refusal instead.
        const deny = accessRecordFor(q, r.action, { decision: "deny", reason: "revoked" });
        await appendAccessRecord(node, deny.body, deny.refs, now);
        throw new RadledgerError("ACCESS_DENIED", "access denied (revoked); the decision is recorded", {
          reason: "revoked",
        });
      }
    };
    if (d.decision === "deny") {
      await record();
      return { decision: "deny", reason: d.reason };
    }
    // The permit is decided; its record becomes durable while the proxy asks the archive.
    return { decision: "permit", recorded: record() };
  }
}
