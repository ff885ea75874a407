// The committed contract artifacts (src/adapters/evm/artifacts/) must be exactly what solc-js
// produces from contracts/*.sol today: the runtime deploys that bytecode without a compiler.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { Abi } from "viem";
import { radledgerConsortiumAbi } from "./artifacts/RadledgerConsortium.js";
import { EVM_ERROR_CODES, toEvmError } from "./errors.js";
import { RadledgerError } from "../../core/errors.js";

const run = promisify(execFile);

describe("EVM contract artifacts", () => {
  it("equal a fresh solc-js compile of contracts/", async () => {
    const { stdout } = await run(process.execPath, ["scripts/compile-contracts.mjs", "--check"], {
      timeout: 120_000,
    });
    expect(stdout).toContain("up to date");
  });

  it("every custom error of the contract has an adapter error code", async () => {
    const { encodeErrorResult, RawContractError } = await import("viem");
    const looseAbi: Abi = radledgerConsortiumAbi;
    for (const item of radledgerConsortiumAbi) {
      if (item.type !== "error") continue;
      const args = item.inputs.map((i) =>
        i.type === "address"
          ? "0x0000000000000000000000000000000000000001"
          : i.type === "bytes32"
            ? `0x${"00".repeat(32)}`
            : 1n,
      );
      const data = encodeErrorResult({ abi: looseAbi, errorName: item.name, args });
      const mapped = toEvmError(new RawContractError({ data }), radledgerConsortiumAbi, "http://x");
      expect(mapped).toBeInstanceOf(RadledgerError);
      expect(EVM_ERROR_CODES, item.name).toContain(mapped.code);
      expect(mapped.code, item.name).toMatch(/^ANCHOR_/);
      expect(mapped.details.contractError).toBe(item.name);
    }
  });
});
