// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title EventRecorder
/// @notice A deliberately naive "MedRec-style" baseline: every ledger event is its own
/// transaction that stores a record and emits an event. It exists only so that a benchmark can
/// compare radledger's append rate with an EVM chain recording the same events (docs/performance.md:
/// append >= 40x an EVM chain recording the same events on a local Hardhat network).
/// Not used by radledger itself, which anchors one checkpoint per batch instead.
contract EventRecorder {
    struct Record {
        bytes32 actor;
        uint8 kind;
        uint64 blockNumber;
        address sender;
    }

    mapping(bytes32 entryHash => Record) public records;
    uint256 public count;

    event Recorded(bytes32 indexed entryHash, bytes32 indexed actor, uint8 kind, address sender);

    error AlreadyRecorded(bytes32 entryHash);

    function record(bytes32 entryHash, bytes32 actor, uint8 kind) external {
        if (records[entryHash].sender != address(0)) revert AlreadyRecorded(entryHash);
        records[entryHash] = Record(actor, kind, uint64(block.number), msg.sender);
        ++count;
        emit Recorded(entryHash, actor, kind, msg.sender);
    }
}
