/**
 * The RIS intake (docs/intake.md): an HL7 v2 ORU^R01 a RIS sends becomes report entries signed by
 * that system's enrolled actor on the named clinicians' behalf (`onBehalfOf`, docs/families/reports.md),
 * and the sender gets an ACK per message (AA recorded, AE refused by a rule, AR unreadable).
 *
 * Who sent it is decided before the message is read, by the sender's address mapped to a system
 * actor with the integration role (`--mllp-source ADDRESS=ACTOR`): only as authentic as the network
 * (anyone who can send from that address speaks for the RIS), as for syslog (docs/audit.md).
 *
 * Mapping (src/app/ris-intake/oru.ts reads the message): the study by its Study Instance UID when
 * an OBX carries one, else by accession number (OBR-3 / OBR-18 / OBR-19), both as keyed pseudonyms
 * (the accession index is filled when studies are registered, src/app/register-study.ts); each
 * section's text goes to the patient's vault and its commitment to the log; the author is the OBX-16
 * responsible observer, the OBR-34 technician for the technique, else the OBR-32 principal result
 * interpreter (OBR-33 assistant for a preliminary result without one). Clinicians are named by the
 * RIS's id for them, mapped to an enrolled actor (`--mllp-clinician RISID=ACTOR`, else the id is the
 * actor id). Result status (OBR-25): P and A add draft contributions (opening the report if new),
 * F adds them and signs off on the principal interpreter's behalf, C amends the signed report.
 *
 * Everything that can refuse is checked before anything is written, so a NAK leaves nothing on the
 * log. A message already recorded (same sender, same MSH-10) gets the same ACK again and records
 * nothing; a refused one is tried afresh when resent (the RIS resends after fixing the cause).
 * Messages about one study are handled one at a time (the report's state decides each message's
 * entries); messages about different studies proceed together and share commits.
 */
import type { Hl7Message } from "@medplum/core";
import type { JsonObject } from "../../core/canonical-json.js";
import { toHex } from "../../core/bytes.js";
import type { EntryRefs } from "../../core/entry.js";
import { RadledgerError, toRadledgerError } from "../../core/errors.js";
import { leafHash } from "../../core/merkle/hash.js";
import type { ActorDoc } from "../../domain/ledger/entry-types.js";
import { certBindable } from "../../domain/identity/credentials.js";
import { getActor } from "../../domain/identity/state.js";
import { getStudy } from "../../domain/imaging/state.js";
import { SECTIONS_BY_ROLE } from "../../domain/reports/entries.js";
import type { ContributionView, ReportDoc } from "../../domain/reports/state.js";
import { signAsInstitution } from "../institution.js";
import { signAs } from "../keys.js";
import type { RadledgerNode } from "../node.js";
import { accessionKey, registeredStudyId } from "../register-study.js";
import { ackCodeOf, ackOf, nakWithoutMessage } from "./ack.js";
import { controlIdOf, parseHl7, readOru, type OruReport, type OruSection } from "./oru.js";

export interface RisIntakeOptions {
  /** Sender address → system actor id. */
  readonly sources?: ReadonlyMap<string, string>;
  /** The RIS's clinician id (OBR-32/33/34, OBX-16 ID number) → actor id; unmapped ids are actor ids. */
  readonly clinicians?: ReadonlyMap<string, string>;
  /** Told of every message's outcome: "recorded", "duplicate" or the refusal's code. */
  readonly onOutcome?: (outcome: string) => void;
}

/** What the intake answers: the ACK's text and the outcome. */
export interface RisAnswer {
  readonly ack: string;
  readonly outcome: string;
}

/** IPv4-mapped IPv6 addresses (a dual-stack socket's view of an IPv4 peer) as the IPv4 address. */
const normalise = (a: string): string => (a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a);

/** Roles an interpreter or technician contributes in, first that may author the section. */
const CONTRIBUTING_ROLES = ["radiologist", "technologist", "clinician"] as const;

/** Per node, per study: the last message's handling (the MLLP and FHIR intakes share them). */
const studyLocks = new WeakMap<RadledgerNode, Map<string, Promise<unknown>>>();

export class RisIntake {
  readonly #node: RadledgerNode;
  readonly #sources: ReadonlyMap<string, string>;
  readonly #clinicians: ReadonlyMap<string, string>;
  readonly #onOutcome: (outcome: string) => void;

  constructor(node: RadledgerNode, options: RisIntakeOptions = {}) {
    this.#node = node;
    this.#sources = new Map(
      [...(options.sources ?? new Map<string, string>())].map(([a, id]) => [normalise(a), id]),
    );
    this.#clinicians = options.clinicians ?? new Map();
    this.#onOutcome = options.onOutcome ?? (() => undefined);
  }

  /** Counts a refusal that happened before a message could be read (framing, size, unknown peer). */
  refused(error: unknown): void {
    this.#onOutcome(toRadledgerError(error).code);
  }

  /** The system actor a sender's address speaks for; HL7_SOURCE_UNKNOWN or SIGNING_KEY_NOT_HELD. */
  identify(address: string): string {
    const actorId = this.#sources.get(normalise(address));
    if (actorId === undefined)
      throw new RadledgerError(
        "HL7_SOURCE_UNKNOWN",
        "HL7 messages are accepted only from configured sources (--mllp-source ADDRESS=ACTOR)",
      );
    return this.checkSender(actorId);
  }

  /** `actorId` if it may send reports: an active system actor, integration role, key held by the node. */
  checkSender(actorId: string): string {
    const actor = getActor(this.#node.store, actorId);
    if (actor === undefined || !certBindable(actor) || !actor.roles.includes("integration"))
      throw new RadledgerError(
        "HL7_SOURCE_UNKNOWN",
        `${actorId} is not an active system actor with the integration role`,
      );
    if (!this.#node.heldKeys.has(actorId))
      throw new RadledgerError(
        "SIGNING_KEY_NOT_HELD",
        `the node holds no key for ${actorId}: it cannot sign the system's entries`,
      );
    return actorId;
  }

  /** The NAK (AR) for a refusal before a message could be read: framing, size, an unknown sender. */
  nak(error: RadledgerError, text?: string): string {
    if (text !== undefined)
      try {
        return ackOf(parseHl7(text), "AR", error);
      } catch {
        // Not even an MSH to answer: the bare NAK below.
      }
    return nakWithoutMessage(controlIdOf(text ?? ""), error, this.#node.clock.now());
  }

  /** One message from `sender` (a system actor): its ACK. Never rejects. */
  async receive(sender: string, text: string): Promise<RisAnswer> {
    let message: Hl7Message | undefined;
    try {
      message = parseHl7(text);
      const m = message;
      return await this.recordOnce(sender, readOru(message), () => ackOf(m, "AA"));
    } catch (e) {
      const err = toRadledgerError(e);
      const ack =
        message === undefined
          ? nakWithoutMessage(controlIdOf(text), err, this.#node.clock.now())
          : ackOf(message, ackCodeOf(err), err);
      return this.#answer(ack, err.code);
    }
  }

  /**
   * Records a report read from any front door (HL7 v2 here, FHIR DiagnosticReport in
   * src/api/fhir-report-intake.ts) once per sender and control id: the answer `answer()` makes is
   * kept and given again for a resend. Rejects with the refusal's coded error.
   */
  async recordOnce(sender: string, oru: OruReport, answer: () => string): Promise<RisAnswer> {
    const done = this.#node.manifests.hl7Ack(sender, oru.controlId);
    if (done !== undefined) return this.#answer(done, "duplicate");
    const studyId = this.#studyOf(oru);
    return this.#serialised(studyId, async () => {
      // A resend that was in flight behind the first copy.
      const again = this.#node.manifests.hl7Ack(sender, oru.controlId);
      if (again !== undefined) return this.#answer(again, "duplicate");
      await this.#record(sender, oru, studyId);
      const ack = answer();
      this.#node.manifests.putHl7Ack(sender, oru.controlId, ack);
      return this.#answer(ack, "recorded");
    });
  }

  /** Counts a refusal of recordOnce (the FHIR door answers it itself). */
  counted(error: unknown): RadledgerError {
    const err = toRadledgerError(error);
    this.#onOutcome(err.code);
    return err;
  }

  #answer(ack: string, outcome: string): RisAnswer {
    this.#onOutcome(outcome);
    return { ack, outcome };
  }

  /** Runs `fn` after every earlier message of the same study, whichever intake of the node took it. */
  #serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let locks = studyLocks.get(this.#node);
    if (locks === undefined) studyLocks.set(this.#node, (locks = new Map<string, Promise<unknown>>()));
    const previous = locks.get(key) ?? Promise.resolve();
    const mine = previous.then(fn, fn);
    const tail = mine.catch(() => undefined);
    locks.set(key, tail);
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return mine;
  }

  /** The registered study the message is about: by Study Instance UID, else by accession. */
  #studyOf(oru: OruReport): string {
    const node = this.#node;
    if (oru.studyUid !== undefined) {
      const id = registeredStudyId(node, node.pseudonym("study", oru.studyUid));
      if (id !== undefined) return id;
    }
    if (oru.accession !== undefined) {
      const key = node.manifests.studyKeyOfAccession(accessionKey(node, oru.accession));
      const id = key === undefined ? undefined : registeredStudyId(node, key);
      if (id !== undefined) return id;
    }
    throw new RadledgerError(
      "HL7_STUDY_UNKNOWN",
      oru.accession === undefined && oru.studyUid === undefined
        ? "the message names no accession number (OBR-3, OBR-18, OBR-19) or Study Instance UID"
        : "no study registered on this node has the message's accession number or Study Instance UID",
      { at: "OBR-3" },
    );
  }

  /** An enrolled, active staff actor for a RIS clinician id; HL7_CLINICIAN_UNKNOWN otherwise. */
  #clinician(risId: string, at: string): ActorDoc {
    const actorId = this.#clinicians.get(risId) ?? risId;
    const actor = getActor(this.#node.store, actorId);
    if (actor === undefined || actor.status !== "active" || actor.kind !== "staff")
      throw new RadledgerError(
        "HL7_CLINICIAN_UNKNOWN",
        `the clinician ${at} names is no active enrolled staff member (map RIS ids with --mllp-clinician)`,
        { at },
      );
    return actor;
  }

  #record(sender: string, oru: OruReport, studyId: string): Promise<unknown> {
    const node = this.#node;
    const state = node.store;
    const key = node.heldKeys.get(sender);
    if (key === undefined)
      throw new RadledgerError("SIGNING_KEY_NOT_HELD", `the node holds no key for ${sender}`);
    const study = getStudy(state, studyId)!;
    const principal = oru.principal === undefined ? undefined : this.#clinician(oru.principal, "OBR-32");
    const assistants = oru.assistants.map((id) => this.#clinician(id, "OBR-33"));
    const technicians = oru.technicians.map((id) => this.#clinician(id, "OBR-34"));
    const final = oru.status === "F" || oru.status === "C";
    if (final && !principal?.roles.includes("radiologist"))
      throw new RadledgerError(
        "HL7_CLINICIAN_UNKNOWN",
        "a final or corrected result needs its principal result interpreter (OBR-32), an enrolled radiologist",
        { at: "OBR-32" },
      );
    const authored = oru.sections.map((s) => this.#attribute(s, principal ?? assistants[0], technicians));

    const latest = state.lookup("report.study", studyId, { reverse: true, limit: 1 })[0];
    const report: ReportDoc | undefined =
      latest === undefined ? undefined : (state.getDoc("report", latest.value) as ReportDoc | undefined);
    const time = node.clock.now();
    const entries: Uint8Array[] = [];
    const idOf = (bytes: Uint8Array): string => toHex(leafHash(node.crypto, bytes));
    const sign = (type: string, body: JsonObject, refs: EntryRefs): string => {
      const bytes = signAs(node.crypto, key, node.config.origin, type, body, { refs, time });
      entries.push(bytes);
      return idOf(bytes);
    };
    const commit = (s: OruSection): string =>
      node.vault.put(study.patient, { section: s.section, text: s.text }).commitment;

    if (oru.status === "C") {
      if (report === undefined || report.status !== "signed")
        throw new RadledgerError(
          "REPORT_NOT_SIGNED",
          "a corrected result (C) amends a signed report: this study has none",
          { at: "OBR-25" },
        );
      const reportId = report.id;
      const history = [...report.contributions, ...report.amendments];
      for (const { section, author, role } of authored) {
        const amends = history.filter((c) => c.section === section.section).at(-1);
        sign(
          "report.amended",
          {
            section: section.section,
            role,
            contentCommitment: commit(section),
            origin: "human",
            kind: amends ? "amendment" : "addendum",
            reason: "correction",
            onBehalfOf: author.id,
          },
          { report: reportId, ...(amends ? { amends: amends.id } : {}) },
        );
      }
    } else {
      if (report?.status === "signed")
        throw new RadledgerError(
          "REPORT_SIGNED",
          "the study's report is signed: send a corrected result (C) instead",
          { at: "OBR-25" },
        );
      if (oru.status === "F" && report?.consults.some((c) => c.status === "open"))
        throw new RadledgerError("CONSULT_OPEN", "a consultation of this report is still unanswered");
      let reportId = report?.id;
      if (reportId === undefined) {
        const opened = signAsInstitution(
          node,
          "report.opened",
          { reportKind: "diagnostic" },
          { study: studyId },
          time,
        );
        entries.push(opened);
        reportId = idOf(opened);
      }
      const added = authored.map(({ section, author, role }) =>
        sign(
          "report.contribution",
          {
            section: section.section,
            role,
            contentCommitment: commit(section),
            origin: "human",
            onBehalfOf: author.id,
          },
          { report: reportId },
        ),
      );
      if (oru.status === "F")
        sign(
          "report.signed",
          { attestation: "final", onBehalfOf: principal!.id },
          {
            report: reportId,
            contributions: [...(report?.contributions ?? []).map((c: ContributionView) => c.id), ...added],
          },
        );
    }
    return this.#appendAll(entries);
  }

  /** The author of a section and the role they write it in (SECTIONS_BY_ROLE). */
  #attribute(
    section: OruSection,
    interpreter: ActorDoc | undefined,
    technicians: readonly ActorDoc[],
  ): { section: OruSection; author: ActorDoc; role: string } {
    const technician = technicians.find((t) => t.roles.includes("technologist"));
    const author =
      section.observer !== undefined
        ? this.#clinician(section.observer, "OBX-16")
        : section.section === "technique" && technician
          ? technician
          : interpreter;
    if (author === undefined)
      throw new RadledgerError(
        "HL7_CLINICIAN_UNKNOWN",
        "the message names no result interpreter (OBR-32, or OBR-33 for a preliminary result)",
        { at: "OBR-32" },
      );
    const role = CONTRIBUTING_ROLES.find(
      (r) => author.roles.includes(r) && SECTIONS_BY_ROLE[r]!.includes(section.section),
    );
    if (role === undefined)
      throw new RadledgerError(
        "SECTION_NOT_PERMITTED",
        `${author.id} holds no role that authors ${section.section} sections`,
        { at: "OBX-3" },
      );
    return { section, author, role };
  }

  /** Appends the message's entries as one batch; the first refusal is the message's. */
  async #appendAll(entries: readonly Uint8Array[]): Promise<void> {
    const results = await this.#node.appender.appendAll(entries);
    for (const r of results) if (!r.ok) throw r.error;
  }
}
