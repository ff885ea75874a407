// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title RadledgerConsortium
/// @notice Consortium registry and checkpoint anchor for radledger (docs/design.md §4.7).
///
/// Each member hospital runs its own RFC 9162 transparency log and publishes C2SP checkpoints.
/// This contract records each member's latest checkpoint and accepts a newer one only together
/// with an RFC 9162 §2.1.4 consistency proof from the previously anchored checkpoint, verified
/// here with the SHA-256 precompile. Once a (size, root) is anchored, the chain itself refuses
/// any later checkpoint whose tree does not extend that one: a member cannot rewrite its history.
///
/// The same contract holds the consortium registry: members (by log origin), the EVM account
/// that acts for each, and their checkpoint-verifier and witness keys (C2SP vkey text). Members
/// are admitted and removed, and the quorum k is changed, only by k-of-n votes of current
/// members. The deployer bootstraps the initial set and has no further power.
contract RadledgerConsortium {
    // ---------------------------------------------------------------- types

    enum ProposalKind {
        Admit,
        Remove,
        SetQuorum
    }

    struct Member {
        address account; // the EVM account allowed to act for this member
        bool active; // false once removed; a removed member can neither vote nor anchor
        bool known; // ever admitted: its anchored checkpoint survives removal and re-admission
        string origin; // log origin, e.g. "radledger.hospital-a.example/log"
        string verifierKey; // C2SP signed-note verifier key: <name>+<hex keyID>+<base64(0x01||pubkey)>
        string witnessKey; // C2SP verifier key of the member's witness (cosignature/v1)
    }

    /// One entry of the constructor's bootstrap list.
    struct InitialMember {
        string origin;
        address account;
        string verifierKey;
        string witnessKey;
    }

    struct Checkpoint {
        uint64 size; // tree size of the anchored checkpoint
        uint64 timestamp; // block timestamp of the anchoring transaction
        bool anchored; // false until the member's first anchor
        bytes32 root; // RFC 9162 §2.1.1 Merkle tree head of that size
        bytes32 noteHash; // SHA-256 of the full signed checkpoint note, for reference
    }

    struct Proposal {
        ProposalKind kind;
        bool executed;
        uint32 newQuorum; // SetQuorum only
        address account; // Admit only
        bytes32 originHash; // Admit and Remove
        string origin; // Admit and Remove
        string verifierKey; // Admit only
        string witnessKey; // Admit only
        bytes32[] voters; // origin hashes of the members that voted, each at most once
    }

    /// Read-only view of a member, as returned by `members()` and `member()`.
    struct MemberView {
        string origin;
        address account;
        bool active;
        string verifierKey;
        string witnessKey;
    }

    // ---------------------------------------------------------------- errors

    error NotMember(address account);
    error NotAuthorized(bytes32 originHash, address account);
    error UnknownMember(bytes32 originHash);
    error MemberExists(bytes32 originHash);
    error AccountInUse(address account);
    error InvalidOrigin();
    error InvalidAccount();
    error InvalidKey();
    error InvalidQuorum(uint256 quorum, uint256 activeMembers);
    error UnknownProposal(uint256 id);
    error AlreadyVoted(uint256 id, bytes32 voter);
    error ProposalAlreadyExecuted(uint256 id);
    error QuorumNotReached(uint256 id, uint256 votes, uint256 quorum);
    error SizeRegression(uint64 anchoredSize, uint64 size);
    error InconsistentCheckpoint(uint64 anchoredSize, uint64 size);
    error UnexpectedProof();
    error InvalidEmptyTreeRoot();

    // ---------------------------------------------------------------- events

    event MemberAdmitted(
        bytes32 indexed originHash,
        string origin,
        address account,
        string verifierKey,
        string witnessKey
    );
    event MemberRemoved(bytes32 indexed originHash, string origin, address account);
    event ProposalCreated(
        uint256 indexed id,
        ProposalKind kind,
        bytes32 indexed subject,
        bytes32 indexed proposer
    );
    event Voted(uint256 indexed id, bytes32 indexed voter, uint256 votes, uint256 quorum);
    event ProposalExecuted(uint256 indexed id, ProposalKind kind);
    event QuorumChanged(uint256 previousQuorum, uint256 quorum);
    event CheckpointAnchored(
        bytes32 indexed originHash,
        string origin,
        uint64 previousSize,
        uint64 size,
        bytes32 root,
        bytes32 noteHash
    );

    // ---------------------------------------------------------------- state

    /// RFC 9162 §2.1.1: MTH({}) = HASH(), the SHA-256 of the empty string.
    bytes32 public constant EMPTY_TREE_ROOT =
        0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;

    uint256 public quorum;
    uint256 public activeMemberCount;
    uint256 public proposalCount;

    mapping(bytes32 originHash => Member) private _members;
    mapping(bytes32 originHash => Checkpoint) private _checkpoints;
    mapping(address account => bytes32 originHash) private _originOf; // active members only
    bytes32[] private _originHashes; // every member ever admitted, in admission order
    mapping(uint256 id => Proposal) private _proposals;
    mapping(uint256 id => mapping(bytes32 voter => bool)) private _voted;

    // ---------------------------------------------------------------- bootstrap

    constructor(InitialMember[] memory initialMembers, uint256 initialQuorum) {
        for (uint256 i = 0; i < initialMembers.length; ++i) {
            InitialMember memory m = initialMembers[i];
            bytes32 h = keccak256(bytes(m.origin));
            _checkAdmissible(h, m.origin, m.account, m.verifierKey);
            _admit(h, m.origin, m.account, m.verifierKey, m.witnessKey);
        }
        if (initialQuorum == 0 || initialQuorum > activeMemberCount) {
            revert InvalidQuorum(initialQuorum, activeMemberCount);
        }
        quorum = initialQuorum;
        emit QuorumChanged(0, initialQuorum);
    }

    // ---------------------------------------------------------------- governance

    /// Proposes admitting a member; the proposer's vote is counted at once.
    function proposeAdmission(
        string calldata origin,
        address account,
        string calldata verifierKey,
        string calldata witnessKey
    ) external returns (uint256 id) {
        bytes32 voter = _callerMember();
        bytes32 h = keccak256(bytes(origin));
        _checkAdmissible(h, origin, account, verifierKey);
        id = ++proposalCount;
        Proposal storage p = _proposals[id];
        p.kind = ProposalKind.Admit;
        p.account = account;
        p.originHash = h;
        p.origin = origin;
        p.verifierKey = verifierKey;
        p.witnessKey = witnessKey;
        emit ProposalCreated(id, ProposalKind.Admit, h, voter);
        _castVote(id, p, voter);
    }

    /// Proposes removing an active member; the proposer's vote is counted at once.
    function proposeRemoval(string calldata origin) external returns (uint256 id) {
        bytes32 voter = _callerMember();
        bytes32 h = keccak256(bytes(origin));
        _checkRemovable(h);
        id = ++proposalCount;
        Proposal storage p = _proposals[id];
        p.kind = ProposalKind.Remove;
        p.originHash = h;
        p.origin = origin;
        emit ProposalCreated(id, ProposalKind.Remove, h, voter);
        _castVote(id, p, voter);
    }

    /// Proposes a new quorum k (1 <= k <= active members); the proposer's vote is counted at once.
    function proposeQuorum(uint32 newQuorum) external returns (uint256 id) {
        bytes32 voter = _callerMember();
        _checkQuorum(newQuorum, activeMemberCount);
        id = ++proposalCount;
        Proposal storage p = _proposals[id];
        p.kind = ProposalKind.SetQuorum;
        p.newQuorum = newQuorum;
        emit ProposalCreated(id, ProposalKind.SetQuorum, bytes32(0), voter);
        _castVote(id, p, voter);
    }

    /// Votes for a pending proposal; executes it when the live tally reaches the quorum.
    /// Returns whether this vote executed it. A vote short of quorum only records the vote.
    function vote(uint256 id) external returns (bool executed) {
        bytes32 voter = _callerMember();
        Proposal storage p = _pending(id);
        return _castVote(id, p, voter);
    }

    /// Executes a proposal whose live tally already reaches the quorum (e.g. after the quorum
    /// was lowered). Reverts with QuorumNotReached otherwise.
    function execute(uint256 id) external {
        _callerMember();
        Proposal storage p = _pending(id);
        uint256 votes = _liveVotes(p);
        if (votes < quorum) revert QuorumNotReached(id, votes, quorum);
        _execute(id, p);
    }

    // ---------------------------------------------------------------- anchoring

    /// Anchors a member's new checkpoint. Only the member's own account may call this, and only
    /// with a valid RFC 9162 §2.1.4.2 consistency proof from the last anchored checkpoint.
    ///
    /// Edge cases (the RFC defines proofs only for 0 < first < second):
    ///  - first anchor of a member: any (size, root) with an empty proof; a size-0 tree must carry
    ///    the empty-tree root (RFC 9162 §2.1.1);
    ///  - same size as anchored: the root must be identical and the proof empty (a different root
    ///    for a size already anchored is a fork);
    ///  - smaller size: SizeRegression;
    ///  - anchored size 0: the empty tree is a prefix of every tree, so the proof must be empty.
    function anchor(
        string calldata origin,
        uint64 size,
        bytes32 root,
        bytes32[] calldata proof,
        bytes32 noteHash
    ) external {
        bytes32 h = keccak256(bytes(origin));
        Member storage m = _members[h];
        if (!m.active || m.account != msg.sender) {
            if (_originOf[msg.sender] == bytes32(0)) revert NotMember(msg.sender);
            revert NotAuthorized(h, msg.sender);
        }

        Checkpoint storage cp = _checkpoints[h];
        uint64 anchoredSize = cp.size;
        if (!cp.anchored) {
            if (proof.length != 0) revert UnexpectedProof();
            if (size == 0 && root != EMPTY_TREE_ROOT) revert InvalidEmptyTreeRoot();
        } else if (size < anchoredSize) {
            revert SizeRegression(anchoredSize, size);
        } else if (size == anchoredSize) {
            if (proof.length != 0) revert UnexpectedProof();
            if (root != cp.root) revert InconsistentCheckpoint(anchoredSize, size);
        } else if (anchoredSize == 0) {
            if (proof.length != 0) revert UnexpectedProof();
        } else if (!verifyConsistency(anchoredSize, size, cp.root, root, proof)) {
            revert InconsistentCheckpoint(anchoredSize, size);
        }

        cp.size = size;
        cp.timestamp = uint64(block.timestamp);
        cp.anchored = true;
        cp.root = root;
        cp.noteHash = noteHash;
        emit CheckpointAnchored(h, origin, anchoredSize, size, root, noteHash);
    }

    /// RFC 9162 §2.1.4.2 "Verifying consistency between two tree heads", step by step.
    /// Precondition of the RFC algorithm: 0 < first < second (anchor() handles the other cases;
    /// called directly it returns false for them rather than guessing).
    /// Node hashes are RFC 9162 §2.1.1 interior nodes: SHA-256(0x01 || left || right).
    function verifyConsistency(
        uint256 first,
        uint256 second,
        bytes32 firstHash,
        bytes32 secondHash,
        bytes32[] calldata path
    ) public view returns (bool) {
        if (first == 0 || first >= second) return false;
        // Step 1: an empty consistency_path fails.
        uint256 len = path.length;
        if (len == 0) return false;
        unchecked {
            // Step 2: if first is an exact power of 2, prepend first_hash to the path. Rather
            // than copy the calldata array, seed fr/sr with first_hash and consume path from 0.
            // Step 5: set fr and sr to the first value of the (possibly prepended) path.
            uint256 i;
            bytes32 fr;
            if (first & (first - 1) == 0) {
                fr = firstHash;
            } else {
                fr = path[0];
                i = 1;
            }
            bytes32 sr = fr;
            // Step 3.
            uint256 fn = first - 1;
            uint256 sn = second - 1;
            // Step 4: while LSB(fn) is set, right-shift fn and sn equally.
            while (fn & 1 == 1) {
                fn >>= 1;
                sn >>= 1;
            }
            // Step 6: each subsequent value c of the path.
            for (; i < len; ++i) {
                if (sn == 0) return false;
                bytes32 c = path[i];
                if (fn & 1 == 1 || fn == sn) {
                    // c is a left sibling of both paths.
                    fr = _hashNode(c, fr);
                    sr = _hashNode(c, sr);
                    if (fn & 1 == 0) {
                        // fn == sn: climb until fn's node is a right child again, or the root.
                        while (fn & 1 == 0 && fn != 0) {
                            fn >>= 1;
                            sn >>= 1;
                        }
                    }
                } else {
                    // c is a right sibling on the second tree's path only.
                    sr = _hashNode(sr, c);
                }
                fn >>= 1;
                sn >>= 1;
            }
            // Step 7.
            return fr == firstHash && sr == secondHash && sn == 0;
        }
    }

    // ---------------------------------------------------------------- views

    /// The member's latest anchored checkpoint (anchored == false if it never anchored).
    function latest(string calldata origin) external view returns (Checkpoint memory) {
        return _checkpoints[keccak256(bytes(origin))];
    }

    /// Active members, in admission order.
    function members() external view returns (MemberView[] memory out) {
        out = new MemberView[](activeMemberCount);
        uint256 j;
        for (uint256 i = 0; i < _originHashes.length; ++i) {
            Member storage m = _members[_originHashes[i]];
            if (m.active) out[j++] = _view(m);
        }
    }

    /// Any member ever admitted, active or removed. Reverts UnknownMember otherwise.
    function member(string calldata origin) external view returns (MemberView memory) {
        Member storage m = _members[keccak256(bytes(origin))];
        if (!m.known) revert UnknownMember(keccak256(bytes(origin)));
        return _view(m);
    }

    /// The origin hash of the active member that `account` acts for, or zero.
    function originOf(address account) external view returns (bytes32) {
        return _originOf[account];
    }

    function proposal(
        uint256 id
    )
        external
        view
        returns (
            ProposalKind kind,
            bool executed,
            uint32 newQuorum,
            address account,
            string memory origin,
            uint256 votes
        )
    {
        if (id == 0 || id > proposalCount) revert UnknownProposal(id);
        Proposal storage p = _proposals[id];
        return (p.kind, p.executed, p.newQuorum, p.account, p.origin, _liveVotes(p));
    }

    function hasVoted(uint256 id, string calldata voterOrigin) external view returns (bool) {
        return _voted[id][keccak256(bytes(voterOrigin))];
    }

    // ---------------------------------------------------------------- internals

    /// SHA-256(0x01 || left || right) through the SHA-256 precompile at address 0x02 — the same
    /// precompile Solidity's `sha256` calls, without allocating a fresh abi.encodePacked buffer
    /// on every loop iteration. The 65-byte input is written above the free-memory pointer
    /// (scratch that Solidity never relies on) and the digest comes back in scratch slot 0x00.
    function _hashNode(bytes32 left, bytes32 right) private view returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 0x01), left)
            mstore(add(p, 0x21), right)
            if iszero(staticcall(gas(), 0x02, p, 0x41, 0x00, 0x20)) {
                revert(0, 0)
            }
            h := mload(0x00)
        }
    }

    function _callerMember() private view returns (bytes32 h) {
        h = _originOf[msg.sender];
        if (h == bytes32(0)) revert NotMember(msg.sender);
    }

    function _pending(uint256 id) private view returns (Proposal storage p) {
        if (id == 0 || id > proposalCount) revert UnknownProposal(id);
        p = _proposals[id];
        if (p.executed) revert ProposalAlreadyExecuted(id);
    }

    function _castVote(uint256 id, Proposal storage p, bytes32 voter) private returns (bool) {
        if (_voted[id][voter]) revert AlreadyVoted(id, voter);
        _voted[id][voter] = true;
        p.voters.push(voter);
        uint256 votes = _liveVotes(p);
        emit Voted(id, voter, votes, quorum);
        if (votes < quorum) return false;
        _execute(id, p);
        return true;
    }

    /// Votes of members that are still active: a removed member's earlier votes stop counting,
    /// so a proposal always executes on the say of k current members.
    function _liveVotes(Proposal storage p) private view returns (uint256 votes) {
        uint256 n = p.voters.length;
        for (uint256 i = 0; i < n; ++i) {
            if (_members[p.voters[i]].active) ++votes;
        }
    }

    function _execute(uint256 id, Proposal storage p) private {
        p.executed = true;
        if (p.kind == ProposalKind.Admit) {
            // State may have changed since the proposal was made: check again.
            _checkAdmissible(p.originHash, p.origin, p.account, p.verifierKey);
            _admit(p.originHash, p.origin, p.account, p.verifierKey, p.witnessKey);
        } else if (p.kind == ProposalKind.Remove) {
            _checkRemovable(p.originHash);
            Member storage m = _members[p.originHash];
            m.active = false;
            delete _originOf[m.account];
            --activeMemberCount;
            emit MemberRemoved(p.originHash, m.origin, m.account);
        } else {
            _checkQuorum(p.newQuorum, activeMemberCount);
            emit QuorumChanged(quorum, p.newQuorum);
            quorum = p.newQuorum;
        }
        emit ProposalExecuted(id, p.kind);
    }

    function _checkAdmissible(
        bytes32 h,
        string memory origin,
        address account,
        string memory verifierKey
    ) private view {
        if (bytes(origin).length == 0) revert InvalidOrigin();
        if (account == address(0)) revert InvalidAccount();
        if (bytes(verifierKey).length == 0) revert InvalidKey();
        if (_members[h].active) revert MemberExists(h);
        if (_originOf[account] != bytes32(0)) revert AccountInUse(account);
    }

    function _checkRemovable(bytes32 h) private view {
        if (!_members[h].active) revert UnknownMember(h);
        // Never leave fewer active members than the quorum: the consortium would be stuck.
        _checkQuorum(quorum, activeMemberCount - 1);
    }

    function _checkQuorum(uint256 k, uint256 activeMembers) private pure {
        if (k == 0 || k > activeMembers) revert InvalidQuorum(k, activeMembers);
    }

    /// Admits (or re-admits) a member. A re-admitted origin keeps its anchored checkpoint, so
    /// leaving and rejoining the consortium cannot be used to restart its log's history.
    function _admit(
        bytes32 h,
        string memory origin,
        address account,
        string memory verifierKey,
        string memory witnessKey
    ) private {
        Member storage m = _members[h];
        if (!m.known) {
            m.known = true;
            m.origin = origin;
            _originHashes.push(h);
        }
        m.account = account;
        m.active = true;
        m.verifierKey = verifierKey;
        m.witnessKey = witnessKey;
        _originOf[account] = h;
        ++activeMemberCount;
        emit MemberAdmitted(h, origin, account, verifierKey, witnessKey);
    }

    function _view(Member storage m) private view returns (MemberView memory) {
        return MemberView(m.origin, m.account, m.active, m.verifierKey, m.witnessKey);
    }
}
