/**
 * The gatekeeper (docs/design.md §2.6): before the node serves protected content — report text and other
 * vault content behind commitments, DICOMweb retrieval — it asks the consent decision, records that
 * decision (permit or deny, with its basis or reason) as an `access.recorded` entry signed by the
 * institution's log key, waits until the entry is durable, and only then lets the caller serve. The
 * access history is therefore complete: nothing is served whose access is not on the log.
 *
 * The decision is made on committed state and re-checked when the record is admitted
 * (docs/families/access.md): if a grant is revoked or a care relationship ends between the two, the
 * permit is refused by the append path, and the gatekeeper decides again — now on the state that
 * includes the revocation — and records the resulting deny. So a revocation stops access at once.
 *
 * No HTTP here: the JSON API (src/api/content.ts, bundle-routes.ts, patient-access.ts) calls it;
 * DICOMweb decides per study, series or instance in src/app/dicomweb-access.ts and records through
 * the same appendAccessRecord.
 */
import type { JsonObject } from "../core/canonical-json.js";
import { formatTime, type EntryRefs } from "../core/entry.js";
import { isRadledgerError, RadledgerError } from "../core/errors.js";
import {
  accessRecordFor,
  denyReasons,
  MAX_REPEAT,
  ROLE_BASIS_ROLES,
  TRANSACTION_ADDRESS,
  TRANSACTION_REQUEST,
} from "../domain/access/entries.js";
import { getActor } from "../domain/identity/state.js";
import type { AuditRecordedBody } from "../domain/access/audit.js";
import { breakGlassJustification, type BreakGlassReason } from "../domain/access/break-glass.js";
import { decide, type AccessQuery, type Decision } from "../domain/consent/decide.js";
import type { AccessAction, AccessContext, Part, PurposeOfUse } from "../domain/consent/entries.js";
import { signAsInstitution } from "./institution.js";
import type { RadledgerNode } from "./node.js";

export interface AuthorizeRequest {
  /** The authenticated accessing actor (never taken from the request body). */
  readonly actor: string;
  /** The patient pseudonym whose record the part belongs to. */
  readonly patient: string;
  readonly part: Part;
  readonly action: AccessAction;
  readonly purpose: PurposeOfUse;
  /**
   * An explicit break-glass request: a code of the break-glass reason value set and the required
   * free-text justification, which goes to the vault (per patient, encrypted) when the glass is
   * broken; the log carries only its commitment (docs/families/access.md).
   */
  readonly breakGlass?: { readonly reason: BreakGlassReason; readonly justification: string };
  readonly context?: AccessContext;
  /**
   * Metadata reads (lists, report and study records, access histories; never content): when
   * decide() finds no basis, the caller's role — one the API's rule for the route admits — is the
   * basis, recorded as `{ kind: "role", role }` (docs/families/access.md "Basis role"). Absent: a
   * deny is a deny.
   */
  readonly role?: (typeof ROLE_BASIS_ROLES)[number];
}

export interface AccessOutcome {
  readonly decision: Decision;
  /** The access.recorded entry: its id (leaf hash) and log index. */
  readonly access: { readonly id: string; readonly index: number };
}

export interface DenialRequest {
  readonly actor: string;
  readonly patient: string;
  readonly part: Part;
  readonly action: AccessAction;
  readonly purpose: PurposeOfUse;
  /** The gatekeeper's own reason code, e.g. "role-not-permitted", "not-own-record". */
  readonly reason: string;
  readonly context?: AccessContext;
}

export interface Gatekeeper {
  /** Decides, records the decision durably, and returns it; the caller serves only on permit. */
  authorize(request: AuthorizeRequest): Promise<AccessOutcome>;
  /** Records a denial decided outside decide() (an API authorisation rule about patient data). */
  recordDenial(request: DenialRequest): Promise<{ id: string; index: number }>;
  /** Records one of the node's own audit events (audit.recorded), durably, before the caller answers. */
  recordAudit(body: AuditRecordedBody): Promise<{ id: string; index: number }>;
}

export interface GatekeeperOptions {
  /** Told of every recorded decision (metrics). */
  readonly onDecision?: (decision: "permit" | "deny", basisOrReason: string) => void;
  /**
   * The transaction being answered (the API's request id and the client's address), recorded with
   * each decision as IHE BALP asks (docs/audit.md); absent outside a request.
   */
  readonly transaction?: () => Transaction | undefined;
}

/** A request as the edge that received it knows it. */
export interface Transaction {
  readonly request: string;
  readonly address?: string;
}

/** How often a permit refused at admission (state changed underneath) is decided again. */
const MAX_ATTEMPTS = 3;

/**
 * Signs an access.recorded body as the institution and appends it, durably. Two identical accesses
 * in one millisecond (same actor, part, purpose, decision) would sign to the same bytes (RFC 8032
 * signatures are deterministic) and the second be refused as ENTRY_DUPLICATE; every access is
 * recorded, so the next one says it is a repeat (docs/families/access.md). Used by this gatekeeper
 * and the DICOMweb one (src/app/dicomweb-access.ts).
 */
export async function appendAccessRecord(
  node: RadledgerNode,
  body: JsonObject,
  refs: EntryRefs,
  time: number,
): Promise<{ index: number; leafHash: string }> {
  return appendInstitutionRecord(node, "access.recorded", body, refs, time);
}

/** appendAccessRecord for any institution-signed record with a `repeat` field (audit.recorded too). */
export async function appendInstitutionRecord(
  node: RadledgerNode,
  type: "access.recorded" | "audit.recorded",
  body: JsonObject,
  refs: EntryRefs,
  time: number,
): Promise<{ index: number; leafHash: string }> {
  for (let repeat = 0; ; repeat++) {
    const bytes = signAsInstitution(node, type, repeat === 0 ? body : { ...body, repeat }, refs, time);
    try {
      return await node.appender.append(bytes);
    } catch (e) {
      if (!(isRadledgerError(e) && e.code === "ENTRY_DUPLICATE" && repeat < MAX_REPEAT)) throw e;
    }
  }
}

/**
 * Puts a break-glass justification into the patient's vault and returns its commitment, which the
 * access record carries (free text never goes on the log: docs/design.md §2.9). Refuses a missing or
 * too short one (INPUT_INVALID): the domain refuses a break-glass permit without it anyway.
 */
export function justificationCommitment(node: RadledgerNode, patient: string, justification: string): string {
  const parsed = breakGlassJustification.safeParse(justification);
  if (!parsed.success)
    throw new RadledgerError(
      "INPUT_INVALID",
      `breakGlass.justification: ${parsed.error.issues[0]?.message ?? "invalid"}`,
      { at: "breakGlass.justification" },
    );
  return node.vault.put(patient, { justification: parsed.data }).commitment;
}

export function createGatekeeper(node: RadledgerNode, options: GatekeeperOptions = {}): Gatekeeper {
  /** The body's transaction field: a patient's address is left out (docs/audit.md). */
  const transactionOf = (actor: string): { transaction?: JsonObject } => {
    const t = options.transaction?.();
    if (t === undefined || !TRANSACTION_REQUEST.test(t.request)) return {};
    const address =
      t.address !== undefined &&
      TRANSACTION_ADDRESS.test(t.address) &&
      getActor(node.store, actor)?.kind !== "patient"
        ? t.address
        : undefined;
    return { transaction: { request: t.request, ...(address === undefined ? {} : { address }) } };
  };
  return {
    async authorize(r) {
      // The justification goes to the vault only when the glass is actually broken (a permit).
      let reasonCommitment: string | undefined;
      const commitJustification = (): string =>
        (reasonCommitment ??= justificationCommitment(node, r.patient, r.breakGlass!.justification));
      for (let attempt = 1; ; attempt++) {
        // One instant for the decision and the record: the append path re-checks the basis at the
        // entry's time, which must be the time decided about.
        const now = node.clock.now();
        const q: AccessQuery = {
          actor: r.actor,
          patient: r.patient,
          part: r.part,
          purpose: r.purpose,
          time: formatTime(now),
          ...(r.breakGlass === undefined ? {} : { breakGlass: { reason: r.breakGlass.reason } }),
          ...(r.context === undefined ? {} : { context: r.context }),
        };
        const decided = decide(node.store, q, node.policy);
        // Metadata under the route's role rule: no basis of decide()'s is still a permit, by role.
        const decision: Decision =
          decided.decision === "deny" && r.role !== undefined && r.breakGlass === undefined
            ? { decision: "permit", basis: { kind: "role", role: r.role }, reason: "role" }
            : decided;
        const breaksGlass = decision.decision === "permit" && decision.basis.kind === "break-glass";
        const { body, refs } = accessRecordFor(
          q,
          r.action,
          decision,
          breaksGlass ? { reasonCommitment: commitJustification() } : {},
        );
        try {
          const { index, leafHash } = await appendAccessRecord(
            node,
            { ...body, ...transactionOf(r.actor) },
            refs,
            now,
          );
          options.onDecision?.(
            decision.decision,
            decision.decision === "permit" ? decision.basis.kind : decision.reason,
          );
          return { decision, access: { id: leafHash, index } };
        } catch (e) {
          // A permit whose basis vanished before admission (revocation, care ended): decide again.
          const retry =
            decision.decision === "permit" &&
            attempt < MAX_ATTEMPTS &&
            isRadledgerError(e) &&
            (e.code === "ACCESS_BASIS_INVALID" || e.code === "ENTRY_TIME_OUT_OF_WINDOW");
          if (!retry) throw e;
        }
      }
    },

    async recordDenial(r) {
      if (!denyReasons.has(r.reason))
        throw new RadledgerError("INTERNAL", "a denial reason must be a code of the deny reason value set");
      const now = node.clock.now();
      const body = {
        actor: r.actor,
        patient: r.patient,
        part: r.part,
        action: r.action,
        purpose: r.purpose,
        decision: "deny",
        reason: r.reason,
        ...(r.context === undefined ? {} : { context: r.context }),
        ...transactionOf(r.actor),
      };
      const { index, leafHash } = await appendAccessRecord(node, body, {}, now);
      options.onDecision?.("deny", r.reason);
      return { id: leafHash, index };
    },

    async recordAudit(body) {
      const { index, leafHash } = await appendInstitutionRecord(
        node,
        "audit.recorded",
        body as JsonObject,
        {},
        node.clock.now(),
      );
      return { id: leafHash, index };
    },
  };
}

/**
 * The node's start or stop as an audit event (DICOM 110100 Application Activity with EventTypeCode
 * 110120 Application Start or 110121 Application Stop), signed by the institution key.
 */
export async function recordApplicationActivity(
  node: RadledgerNode,
  activity: "start" | "stop",
): Promise<{ index: number; leafHash: string }> {
  return appendInstitutionRecord(
    node,
    "audit.recorded",
    { event: "application-activity", activity, outcome: "success" },
    {},
    node.clock.now(),
  );
}
