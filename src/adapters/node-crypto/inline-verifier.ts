/** EntryVerifier on the calling thread: for tests, small tools and hosts without worker threads. */
import type { CryptoSuite } from "../../core/crypto.js";
import type { EntryTypeRegistry } from "../../domain/ledger/entry-types.js";
import { verifyEntryBytes } from "../../domain/ledger/verify-entry.js";
import type { EntryVerifier, VerifyOutcome, VerifyRequest } from "../../ports/verifier.js";

export class InlineVerifier implements EntryVerifier {
  constructor(
    private readonly crypto: CryptoSuite,
    private readonly registry: EntryTypeRegistry,
  ) {}

  verify(requests: readonly VerifyRequest[]): Promise<VerifyOutcome[]> {
    return Promise.resolve(
      requests.map((r) => verifyEntryBytes(this.crypto, this.registry, r.bytes, r.publicKey)),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
