/**
 * The audit intake (docs/audit.md): an audit message another system of the hospital sent (IHE ATNA,
 * a DICOM PS3.15 A.5 AuditMessage) becomes an `access.reported` entry on the log, signed by that
 * system's own enrolled actor.
 *
 * Who sent it is decided before the message is read: over TLS by the client certificate the
 * connection presented, whose key an admin bound to a system actor (cert.bound, the same binding as
 * mutual TLS on the API); over plain TCP or UDP by the sender's address, which the operator mapped
 * to a system actor (`--syslog-source ADDRESS=ACTOR`). The second is only as authentic as the
 * network: anyone who can send from that address speaks for the system (docs/audit.md).
 *
 * Privacy: the message carries the patient's identifier (an HL7 CX Patient Number), Study Instance
 * UIDs, user names. Before anything is signed the patient and studies become the node's keyed
 * pseudonyms (the same ones study registration uses, src/app/register-study.ts), a participant whose
 * user id is the patient's own id is named by the pseudonym, names and free text are not copied,
 * and the raw message goes behind a salted commitment — into the patient's vault (encrypted,
 * erased with the patient), or nowhere, by configuration. An event about a patient this log knows
 * nothing of is refused (AUDIT_MESSAGE_UNKNOWN_PATIENT), as one naming no patient is
 * (AUDIT_MESSAGE_NO_PATIENT): the access record is per patient, and a pseudonym nothing else names
 * would be an unreadable orphan on the log.
 */
import type { JsonObject } from "../core/canonical-json.js";
import { RadledgerError, toRadledgerError } from "../core/errors.js";
import {
  isPatientObject,
  isStudyObject,
  isUid,
  parseAuditMessage,
  patientIdOf,
  type AuditEvent,
  type Coded,
} from "../domain/access/audit-message.js";
import { accessReportedBody, type ReportTransport } from "../domain/access/reported.js";
import { certBindable } from "../domain/identity/credentials.js";
import { certBindingOf, getActor } from "../domain/identity/state.js";
import { getStudy } from "../domain/imaging/state.js";
import { isKnownPatient } from "../domain/patients.js";
import { commitmentOf, SALT_BYTES } from "../domain/privacy/commitments.js";
import { signAs } from "./keys.js";
import type { RadledgerNode } from "./node.js";
import { registeredStudyId } from "./register-study.js";

/** What is kept of the raw message: the patient's vault (default), or nothing (only its commitment). */
export type RawMessagePolicy = "vault" | "drop";

/** Who is on the other end: the transport, the sender's address, a TLS client certificate's pin. */
export interface AuditPeer {
  readonly transport: ReportTransport;
  readonly address: string;
  /** RFC 7469 pin-sha256 of the verified client certificate (TLS only). */
  readonly pin?: string;
}

export interface AuditIntakeOptions {
  readonly rawMessages?: RawMessagePolicy;
  /** Plain TCP/UDP senders: source address → system actor id. */
  readonly sources?: ReadonlyMap<string, string>;
  /** Told of every message's outcome ("recorded" or the refusal's code), and of refused peers. */
  readonly onOutcome?: (transport: ReportTransport, outcome: string) => void;
}

export interface RecordedReport {
  readonly index: number;
  readonly id: string;
  readonly patient: string;
}

/** At most this many patients in one event (one entry each). */
const MAX_PATIENTS = 16;

/** IPv4-mapped IPv6 addresses (a dual-stack socket's view of an IPv4 peer) as the IPv4 address. */
export function normaliseAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

export class AuditIntake {
  readonly #node: RadledgerNode;
  readonly #raw: RawMessagePolicy;
  readonly #sources: ReadonlyMap<string, string>;
  readonly #onOutcome: (transport: ReportTransport, outcome: string) => void;

  constructor(node: RadledgerNode, options: AuditIntakeOptions = {}) {
    this.#node = node;
    this.#raw = options.rawMessages ?? "vault";
    this.#sources = new Map(
      [...(options.sources ?? new Map<string, string>())].map(([a, id]) => [normaliseAddress(a), id]),
    );
    this.#onOutcome = options.onOutcome ?? (() => undefined);
  }

  /** Counts a refusal that happened before a message could be read (framing, size, unknown peer). */
  refused(transport: ReportTransport, error: unknown): void {
    this.#onOutcome(transport, toRadledgerError(error).code);
  }

  /**
   * The system actor a peer speaks for: by its bound certificate (TLS) or its configured address
   * (TCP, UDP). AUDIT_SOURCE_UNKNOWN when it is none, SIGNING_KEY_NOT_HELD when the node cannot
   * sign for it (the actor holds its own key: it should sign its reports itself).
   */
  identify(peer: AuditPeer): string {
    const state = this.#node.store;
    let actorId: string | undefined;
    if (peer.transport === "syslog-tls") {
      const binding = peer.pin === undefined ? undefined : certBindingOf(state, peer.pin);
      actorId = binding?.actor;
      if (actorId === undefined)
        throw new RadledgerError(
          "AUDIT_SOURCE_UNKNOWN",
          "the client certificate's key is bound to no system actor (radledger token bind-cert)",
        );
    } else {
      actorId = this.#sources.get(normaliseAddress(peer.address));
      if (actorId === undefined)
        throw new RadledgerError(
          "AUDIT_SOURCE_UNKNOWN",
          `${peer.transport} messages are accepted only from configured source addresses (--syslog-source ADDRESS=ACTOR)`,
        );
    }
    return this.systemActor(actorId);
  }

  /**
   * `actorId` when it is an active system actor with the integration role whose key the node holds
   * (the FHIR feed authenticates the caller itself, then asks this); AUDIT_SOURCE_UNKNOWN or
   * SIGNING_KEY_NOT_HELD otherwise.
   */
  systemActor(actorId: string): string {
    const actor = getActor(this.#node.store, actorId);
    if (actor === undefined || !certBindable(actor) || !actor.roles.includes("integration"))
      throw new RadledgerError(
        "AUDIT_SOURCE_UNKNOWN",
        `${actorId} is not an active system actor with the integration role`,
      );
    if (!this.#node.heldKeys.has(actorId))
      throw new RadledgerError(
        "SIGNING_KEY_NOT_HELD",
        `the node holds no key for ${actorId}: it cannot sign the system's reports`,
      );
    return actorId;
  }

  /**
   * Records one audit message (the XML) as access.reported entries, one per patient it names,
   * signed by `actor`; `raw` is the whole message as received (what the commitment covers). Counts
   * the outcome. Rejects with the refusal's coded error.
   */
  async receive(actor: string, peer: AuditPeer, xml: string, raw: string): Promise<RecordedReport[]> {
    return this.recordEvent(actor, peer, () => parseAuditMessage(xml), raw);
  }

  /**
   * Records one event however it was read — the syslog XML (receive) or a FHIR AuditEvent
   * (src/domain/access/fhir-audit-event.ts, ITI-20 over FHIR) — as access.reported entries, one per
   * patient. `read` runs inside the counted try, so a malformed message is counted like any refusal.
   */
  async recordEvent(
    actor: string,
    peer: AuditPeer,
    read: () => AuditEvent,
    raw: string,
  ): Promise<RecordedReport[]> {
    try {
      const recorded = await this.#record(actor, peer, read(), raw);
      for (let i = 0; i < recorded.length; i++) this.#onOutcome(peer.transport, "recorded");
      return recorded;
    } catch (e) {
      const err = toRadledgerError(e);
      this.#onOutcome(peer.transport, err.code);
      throw err;
    }
  }

  /**
   * A FHIR transaction Bundle (ITI-20 over FHIR): every event is read and checked — patient known,
   * values fitting, signed — before any is appended, so one refused event refuses them all and
   * nothing is recorded (FHIR R4 §3.1.0.11.2, transaction atomicity; an append failing midway is the
   * one exception and says so with its code). Each event counts as one outcome.
   */
  async recordAll(
    actor: string,
    peer: AuditPeer,
    items: readonly { readonly read: () => AuditEvent; readonly raw: string }[],
  ): Promise<RecordedReport[][]> {
    let prepared: { patient: string; bytes: Uint8Array }[][];
    try {
      prepared = items.map((item) => this.#prepare(actor, peer, item.read(), item.raw));
    } catch (e) {
      const err = toRadledgerError(e);
      for (let i = 0; i < items.length; i++) this.#onOutcome(peer.transport, err.code);
      throw err;
    }
    const out: RecordedReport[][] = [];
    for (const entries of prepared) out.push(await this.#append(entries));
    for (const r of out) for (let i = 0; i < r.length; i++) this.#onOutcome(peer.transport, "recorded");
    return out;
  }

  async #record(actor: string, peer: AuditPeer, event: AuditEvent, raw: string): Promise<RecordedReport[]> {
    return this.#append(this.#prepare(actor, peer, event, raw));
  }

  async #append(entries: readonly { patient: string; bytes: Uint8Array }[]): Promise<RecordedReport[]> {
    const out: RecordedReport[] = [];
    for (const e of entries) {
      const { index, leafHash } = await this.#node.appender.append(e.bytes);
      out.push({ index, id: leafHash, patient: e.patient });
    }
    return out;
  }

  #prepare(
    actor: string,
    peer: AuditPeer,
    event: AuditEvent,
    raw: string,
  ): { patient: string; bytes: Uint8Array }[] {
    const node = this.#node;
    const patientIds = [...new Set(event.objects.filter(isPatientObject).map(patientIdOf))];
    if (patientIds.length === 0)
      throw new RadledgerError(
        "AUDIT_MESSAGE_NO_PATIENT",
        "the event names no patient (no ParticipantObjectIdentification of ID type 2, Patient Number)",
      );
    if (patientIds.some((id) => id === "" || id.length > 64))
      throw new RadledgerError(
        "AUDIT_MESSAGE_MALFORMED",
        "audit message: a patient number is empty or too long",
        {
          at: "ParticipantObjectIdentification/@ParticipantObjectID",
        },
      );
    if (patientIds.length > MAX_PATIENTS)
      throw new RadledgerError(
        "AUDIT_MESSAGE_MALFORMED",
        `audit message: more than ${MAX_PATIENTS} patients`,
        {
          at: "ParticipantObjectIdentification",
        },
      );
    const patients = patientIds
      .map((id) => ({ id, pseudonym: node.pseudonym("patient", id) }))
      .filter((p) => isKnownPatient(node.store, p.pseudonym));
    if (patients.length === 0)
      throw new RadledgerError(
        "AUDIT_MESSAGE_UNKNOWN_PATIENT",
        "the event's patient is not known to this log (no study, actor, grant, care relationship or access names them)",
        { at: "ParticipantObjectIdentification" },
      );
    const studyKeys = [
      ...new Set(
        event.objects
          .filter(isStudyObject)
          .map((o) => o.id)
          .filter(isUid)
          .map((uid) => node.pseudonym("study", uid)),
      ),
    ].slice(0, 16);
    const key = node.heldKeys.get(actor);
    if (key === undefined)
      throw new RadledgerError("SIGNING_KEY_NOT_HELD", `the node holds no key for ${actor}`);

    const entries = patients.map((patient) => {
      // A registered study of another patient is not this patient's (one event, several patients);
      // an unregistered one is kept only when the event is about one patient.
      const studies = studyKeys.filter((k) => {
        const id = registeredStudyId(node, k);
        return id === undefined
          ? patients.length === 1
          : getStudy(node.store, id)?.patient === patient.pseudonym;
      });
      const body = reportBody(
        event,
        patient,
        patientIds,
        studies,
        peer.transport,
        this.#commit(patient.pseudonym, raw),
      );
      const checked = accessReportedBody.safeParse(body);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw new RadledgerError(
          "AUDIT_MESSAGE_MALFORMED",
          `audit message: a value does not fit the access record (${issue?.message ?? "invalid"})`,
          { at: `body.${(issue?.path ?? []).join(".")}` },
        );
      }
      return {
        patient: patient.pseudonym,
        bytes: signAs(node.crypto, key, node.config.origin, "access.reported", body, {
          time: node.clock.now(),
        }),
      };
    });
    return entries;
  }

  /** The salted commitment to the raw message: its content kept in the patient's vault, or dropped. */
  #commit(patient: string, raw: string): string {
    const content = { atna: raw };
    if (this.#raw === "vault") return this.#node.vault.put(patient, content).commitment;
    // Dropped: a fresh salt that is thrown away, so the commitment can never be opened — it says that
    // an entry was made from one message, and reveals nothing of it.
    return commitmentOf(this.#node.crypto, this.#node.crypto.randomBytes(SALT_BYTES), content);
  }
}

function codedJson(c: Coded): JsonObject {
  return {
    code: c.code.slice(0, 64),
    ...(c.system === undefined ? {} : { system: c.system.slice(0, 64) }),
    ...(c.display === undefined ? {} : { display: c.display.slice(0, 200) }),
  };
}

function codedList(cs: readonly Coded[]): JsonObject[] | undefined {
  return cs.length === 0 ? undefined : cs.slice(0, 16).map(codedJson);
}

/** The access.reported body of one patient of an event (raw identifiers replaced by pseudonyms). */
function reportBody(
  event: AuditEvent,
  patient: { id: string; pseudonym: string },
  patientIds: readonly string[],
  studies: readonly string[],
  transport: ReportTransport,
  message: string,
): JsonObject {
  const e = event.event;
  const types = codedList(e.types);
  const purposes = codedList(e.purposes);
  const source = event.sources[0]!;
  return {
    patient: patient.pseudonym,
    ...(studies.length === 0 ? {} : { studies: [...studies] }),
    event: {
      id: codedJson(e.id),
      ...(types === undefined ? {} : { types }),
      ...(e.action === undefined ? {} : { action: e.action }),
      outcome: e.outcome,
      time: e.time,
      ...(purposes === undefined ? {} : { purposes }),
    },
    participants: event.participants.map((p) => {
      const roles = codedList(p.roles);
      // A patient acting as a user (a portal) is named by their pseudonym, never their number.
      const own = patientIds.includes(p.userId.split("^")[0]!.trim());
      return {
        userId: own
          ? p.userId.split("^")[0]!.trim() === patient.id
            ? patient.pseudonym
            : "patient"
          : p.userId,
        requestor: p.requestor,
        ...(roles === undefined ? {} : { roles }),
        ...(p.networkAccessPoint === undefined
          ? {}
          : {
              networkAccessPoint: {
                id: p.networkAccessPoint.id,
                ...(p.networkAccessPoint.type === undefined ? {} : { type: p.networkAccessPoint.type }),
              },
            }),
      };
    }),
    source: { id: source.id, ...(source.site === undefined ? {} : { site: source.site }) },
    transport,
    message,
  };
}
