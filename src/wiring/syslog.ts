/**
 * The IHE ATNA syslog receivers of a serving node (docs/audit.md): builds the audit intake
 * (src/app/audit-intake.ts) and the receivers the operator asked for (src/adapters/syslog), each off
 * unless its port is given. The wiring is the one place that constructs adapters.
 */
import type { SecureContextOptions } from "node:tls";
import { RadledgerError } from "../core/errors.js";
import type { RadledgerNode } from "../app/node.js";
import { AuditIntake, type RawMessagePolicy } from "../app/audit-intake.js";
import {
  listenSyslogTcp,
  listenSyslogTls,
  listenSyslogUdp,
  type SyslogReceiver,
} from "../adapters/syslog/receivers.js";

export interface SyslogOptions {
  readonly host: string;
  readonly tcpPort?: number;
  readonly udpPort?: number;
  readonly tlsPort?: number;
  /** Certificate, key and client CA (PEM) for the TLS receiver. */
  readonly tls?: SecureContextOptions & { readonly ca: string | Buffer };
  /** Plain TCP/UDP senders: address → system actor. */
  readonly sources: ReadonlyMap<string, string>;
  readonly rawMessages: RawMessagePolicy;
  /** Every message's outcome ("recorded" or a code), by transport: the node's metrics. */
  readonly onOutcome: (transport: string, outcome: string) => void;
  readonly log?: (line: string) => void;
}

export interface SyslogService {
  readonly receivers: readonly SyslogReceiver[];
  close(): Promise<void>;
}

export async function startSyslog(node: RadledgerNode, o: SyslogOptions): Promise<SyslogService> {
  const intake = new AuditIntake(node, {
    rawMessages: o.rawMessages,
    sources: o.sources,
    onOutcome: o.onOutcome,
  });
  const receivers: SyslogReceiver[] = [];
  const base = { host: o.host, ...(o.log === undefined ? {} : { log: o.log }) };
  const listen = async (port: number, start: () => Promise<SyslogReceiver>): Promise<void> => {
    try {
      receivers.push(await start());
    } catch (e) {
      await Promise.all(receivers.map((r) => r.close()));
      const code = (e as NodeJS.ErrnoException).code;
      throw new RadledgerError(
        "LISTEN_FAILED",
        `cannot listen for syslog on ${o.host}:${port}: ${code === "EADDRINUSE" ? "the address is already in use" : (code ?? "failed")}`,
      );
    }
  };
  if (o.tlsPort !== undefined) {
    const tls = o.tls;
    if (tls === undefined)
      throw new RadledgerError("CLI_USAGE", "--syslog-tls needs --tls-cert, --tls-key and --tls-client-ca");
    await listen(o.tlsPort, () => listenSyslogTls(intake, { ...base, port: o.tlsPort!, tls }));
  }
  if (o.tcpPort !== undefined)
    await listen(o.tcpPort, () => listenSyslogTcp(intake, { ...base, port: o.tcpPort! }));
  if (o.udpPort !== undefined)
    await listen(o.udpPort, () => listenSyslogUdp(intake, { ...base, port: o.udpPort! }));
  return {
    receivers,
    close: async () => {
      await Promise.all(receivers.map((r) => r.close()));
    },
  };
}
