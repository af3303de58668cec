// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "./Manager.sol";

// Orchestrator (transcoder) registry with the read interface of the Livepeer BondingManager.
//
// Devnet simplifications, on purpose:
// - There is no LPT bonding. The Controller owner registers an orchestrator with a stake
//   (devRegisterTranscoder); the orchestrator counts as self-bonded with that stake.
// - Registration takes effect in the current round (the real contract activates from the next round),
//   so a test can register and use an orchestrator without waiting for a round.
// - devDeactivateTranscoder removes the orchestrator from the pool like a resignation, and makes it
//   inactive from the current round (the real one from the next round). It stays registered, so tickets
//   to it still redeem, but it can no longer claim from reserves.
// - Fees are credited wholly to the orchestrator (no delegators); withdrawFees pays them from the Minter.
contract BondingManager is Manager {
    uint256 private constant PERC_DIVISOR = 1000000;
    uint256 private constant MAX_FUTURE_ROUND = type(uint256).max;

    struct EarningsPool {
        uint256 totalStake;
        uint256 transcoderRewardCut;
        uint256 transcoderFeeShare;
        uint256 cumulativeRewardFactor;
        uint256 cumulativeFeeFactor;
    }

    struct Transcoder {
        uint256 lastRewardRound;
        uint256 rewardCut;
        uint256 feeShare;
        uint256 lastActiveStakeUpdateRound;
        uint256 activationRound;
        uint256 deactivationRound;
        uint256 activeCumulativeRewards;
        uint256 cumulativeRewards;
        uint256 cumulativeFees;
        uint256 lastFeeRound;
        mapping(uint256 => EarningsPool) earningsPoolPerRound;
    }

    struct Delegator {
        uint256 bondedAmount;
        uint256 fees;
        address delegateAddress;
        uint256 delegatedAmount;
        uint256 startRound;
        uint256 lastClaimRound;
        uint256 nextUnbondingLockId;
    }

    // Pool entry of the sorted doubly linked list, largest stake first.
    struct Node {
        uint256 stake;
        address next;
        address prev;
        bool inPool;
    }

    enum TranscoderStatus {
        NotRegistered,
        Registered
    }

    mapping(address => Delegator) private delegators;
    mapping(address => Transcoder) private transcoders;

    mapping(address => Node) private pool;
    address private poolHead;
    address private poolTail;
    uint256 private poolSize;
    uint256 private poolMaxSize;

    uint256 public currentRoundTotalActiveStake;
    uint256 public nextRoundTotalActiveStake;

    event TranscoderUpdate(address indexed transcoder, uint256 rewardCut, uint256 feeShare);
    event TranscoderActivated(address indexed transcoder, uint256 activationRound);
    event TranscoderDeactivated(address indexed transcoder, uint256 deactivationRound);
    event WithdrawFees(address indexed delegator, address recipient, uint256 amount);

    constructor(address _controller, uint256 _numActiveTranscoders) Manager(_controller) {
        poolMaxSize = _numActiveTranscoders;
    }

    // ---- governance-style setters

    function setNumActiveTranscoders(uint256 _numActiveTranscoders) external onlyControllerOwner {
        require(_numActiveTranscoders >= poolSize, "new max size must not be below the current pool size");
        poolMaxSize = _numActiveTranscoders;
        emit ParameterUpdate("numActiveTranscoders");
    }

    // ---- devnet-only registration (Controller owner)

    // Registers `_transcoder` as self-bonded with `_stake` and places it in the pool by stake.
    // Calling it again for a registered orchestrator changes its stake and its position in the pool.
    function devRegisterTranscoder(address _transcoder, uint256 _stake) external onlyControllerOwner {
        require(_transcoder != address(0), "transcoder is null address");
        require(_stake > 0, "stake must be greater than 0");

        uint256 round = roundsManager().currentRound();
        Delegator storage del = delegators[_transcoder];
        Transcoder storage t = transcoders[_transcoder];

        if (pool[_transcoder].inPool) {
            uint256 oldStake = pool[_transcoder].stake;
            removeFromPool(_transcoder);
            insertIntoPool(_transcoder, _stake);
            currentRoundTotalActiveStake = currentRoundTotalActiveStake - oldStake + _stake;
            nextRoundTotalActiveStake = nextRoundTotalActiveStake - oldStake + _stake;
        } else {
            if (poolSize >= poolMaxSize) {
                address last = poolTail;
                // A full pool only admits a larger stake, which evicts the smallest one.
                if (poolSize == 0 || _stake <= pool[last].stake) {
                    setRegistered(del, _transcoder, _stake, round);
                    return;
                }
                deactivate(last, round);
            }
            insertIntoPool(_transcoder, _stake);
            currentRoundTotalActiveStake += _stake;
            nextRoundTotalActiveStake += _stake;
            t.activationRound = round;
            t.deactivationRound = MAX_FUTURE_ROUND;
            emit TranscoderActivated(_transcoder, round);
        }

        setRegistered(del, _transcoder, _stake, round);
        t.lastActiveStakeUpdateRound = round;
        EarningsPool storage ep = t.earningsPoolPerRound[round];
        ep.totalStake = _stake;
        ep.transcoderRewardCut = t.rewardCut;
        ep.transcoderFeeShare = t.feeShare;
    }

    // Takes `_transcoder` out of the pool; inactive from the current round, still registered.
    function devDeactivateTranscoder(address _transcoder) external onlyControllerOwner {
        require(pool[_transcoder].inPool, "transcoder is not in the pool");
        deactivate(_transcoder, roundsManager().currentRound());
    }

    // Sets the commission rates without the orchestrator's key (the orchestrator itself may use transcoder()).
    function devSetTranscoderRates(address _transcoder, uint256 _rewardCut, uint256 _feeShare)
        external
        onlyControllerOwner
    {
        setRates(_transcoder, _rewardCut, _feeShare);
    }

    // ---- orchestrator functions

    function transcoder(uint256 _rewardCut, uint256 _feeShare) external whenSystemNotPaused {
        require(!roundsManager().currentRoundLocked(), "can't update transcoder params, current round is locked");
        setRates(msg.sender, _rewardCut, _feeShare);
    }

    function withdrawFees(address payable _recipient, uint256 _amount) external whenSystemNotPaused {
        require(roundsManager().currentRoundInitialized(), "current round is not initialized");
        require(_recipient != address(0), "invalid recipient");
        Delegator storage del = delegators[msg.sender];
        require(del.fees >= _amount, "insufficient fees to withdraw");
        del.fees -= _amount;
        minter().trustedWithdrawETH(_recipient, _amount);
        emit WithdrawFees(msg.sender, _recipient, _amount);
    }

    // ---- called by other protocol contracts

    function updateTranscoderWithFees(address _transcoder, uint256 _fees, uint256 _round)
        external
        whenSystemNotPaused
    {
        require(msg.sender == controller.getContract(keccak256("TicketBroker")), "caller must be TicketBroker");
        // Fees go to the current round's pool, not `_round` (as after LIP-36).
        _round;
        require(isRegisteredTranscoder(_transcoder), "transcoder must be registered");

        uint256 round = roundsManager().currentRound();
        Transcoder storage t = transcoders[_transcoder];
        EarningsPool storage ep = t.earningsPoolPerRound[round];
        if (ep.totalStake == 0) {
            ep.totalStake = t.earningsPoolPerRound[t.lastActiveStakeUpdateRound].totalStake;
        }
        ep.transcoderRewardCut = t.rewardCut;
        ep.transcoderFeeShare = t.feeShare;

        t.cumulativeFees += _fees;
        t.lastFeeRound = round;
        delegators[_transcoder].fees += _fees;
    }

    function setCurrentRoundTotalActiveStake() external {
        require(msg.sender == controller.getContract(keccak256("RoundsManager")), "caller must be RoundsManager");
        currentRoundTotalActiveStake = nextRoundTotalActiveStake;

        // What each orchestrator's reward() call would record on the real network: its stake for the new round,
        // so getTranscoderEarningsPoolForRound(o, lastInitializedRound).totalStake is filled in.
        uint256 round = roundsManager().currentRound();
        for (address a = poolHead; a != address(0); a = pool[a].next) {
            Transcoder storage t = transcoders[a];
            EarningsPool storage ep = t.earningsPoolPerRound[round];
            ep.totalStake = pool[a].stake;
            ep.transcoderRewardCut = t.rewardCut;
            ep.transcoderFeeShare = t.feeShare;
            t.lastActiveStakeUpdateRound = round;
        }
    }

    // ---- views

    function pendingFees(address _delegator, uint256 _endRound) external view returns (uint256) {
        _endRound;
        return delegators[_delegator].fees;
    }

    function transcoderTotalStake(address _transcoder) public view returns (uint256) {
        return delegators[_transcoder].delegatedAmount;
    }

    function transcoderStatus(address _transcoder) external view returns (TranscoderStatus) {
        return isRegisteredTranscoder(_transcoder) ? TranscoderStatus.Registered : TranscoderStatus.NotRegistered;
    }

    function getTranscoder(address _transcoder)
        external
        view
        returns (
            uint256 lastRewardRound,
            uint256 rewardCut,
            uint256 feeShare,
            uint256 lastActiveStakeUpdateRound,
            uint256 activationRound,
            uint256 deactivationRound,
            uint256 activeCumulativeRewards,
            uint256 cumulativeRewards,
            uint256 cumulativeFees,
            uint256 lastFeeRound
        )
    {
        Transcoder storage t = transcoders[_transcoder];
        return (
            t.lastRewardRound,
            t.rewardCut,
            t.feeShare,
            t.lastActiveStakeUpdateRound,
            t.activationRound,
            t.deactivationRound,
            t.activeCumulativeRewards,
            t.cumulativeRewards,
            t.cumulativeFees,
            t.lastFeeRound
        );
    }

    function getTranscoderEarningsPoolForRound(address _transcoder, uint256 _round)
        external
        view
        returns (
            uint256 totalStake,
            uint256 transcoderRewardCut,
            uint256 transcoderFeeShare,
            uint256 cumulativeRewardFactor,
            uint256 cumulativeFeeFactor
        )
    {
        EarningsPool storage ep = transcoders[_transcoder].earningsPoolPerRound[_round];
        return (ep.totalStake, ep.transcoderRewardCut, ep.transcoderFeeShare, ep.cumulativeRewardFactor, ep.cumulativeFeeFactor);
    }

    function getDelegator(address _delegator)
        external
        view
        returns (
            uint256 bondedAmount,
            uint256 fees,
            address delegateAddress,
            uint256 delegatedAmount,
            uint256 startRound,
            uint256 lastClaimRound,
            uint256 nextUnbondingLockId
        )
    {
        Delegator storage d = delegators[_delegator];
        return (d.bondedAmount, d.fees, d.delegateAddress, d.delegatedAmount, d.startRound, d.lastClaimRound, d.nextUnbondingLockId);
    }

    function getTranscoderPoolMaxSize() external view returns (uint256) {
        return poolMaxSize;
    }

    function getTranscoderPoolSize() external view returns (uint256) {
        return poolSize;
    }

    function getFirstTranscoderInPool() external view returns (address) {
        return poolHead;
    }

    function getNextTranscoderInPool(address _transcoder) external view returns (address) {
        return pool[_transcoder].next;
    }

    function getTotalBonded() external view returns (uint256) {
        return currentRoundTotalActiveStake;
    }

    function isActiveTranscoder(address _transcoder) public view returns (bool) {
        Transcoder storage t = transcoders[_transcoder];
        uint256 round = roundsManager().currentRound();
        return t.activationRound <= round && round < t.deactivationRound;
    }

    function isRegisteredTranscoder(address _transcoder) public view returns (bool) {
        Delegator storage d = delegators[_transcoder];
        return d.delegateAddress == _transcoder && d.bondedAmount > 0;
    }

    // ---- internals

    function setRegistered(Delegator storage _del, address _transcoder, uint256 _stake, uint256 _round) private {
        if (_del.bondedAmount == 0) {
            _del.startRound = _round;
            _del.lastClaimRound = _round;
        }
        _del.bondedAmount = _stake;
        _del.delegatedAmount = _stake;
        _del.delegateAddress = _transcoder;
    }

    function setRates(address _transcoder, uint256 _rewardCut, uint256 _feeShare) private {
        require(_rewardCut <= PERC_DIVISOR, "invalid rewardCut percentage");
        require(_feeShare <= PERC_DIVISOR, "invalid feeShare percentage");
        require(isRegisteredTranscoder(_transcoder), "transcoder must be registered");
        Transcoder storage t = transcoders[_transcoder];
        t.rewardCut = _rewardCut;
        t.feeShare = _feeShare;
        emit TranscoderUpdate(_transcoder, _rewardCut, _feeShare);
    }

    function deactivate(address _transcoder, uint256 _round) private {
        uint256 stake = pool[_transcoder].stake;
        removeFromPool(_transcoder);
        currentRoundTotalActiveStake -= stake;
        nextRoundTotalActiveStake -= stake;
        transcoders[_transcoder].deactivationRound = _round;
        emit TranscoderDeactivated(_transcoder, _round);
    }

    // Walks from the head to keep the pool sorted by stake, largest first; equal stakes keep arrival order.
    function insertIntoPool(address _id, uint256 _stake) private {
        address prev = address(0);
        address next = poolHead;
        while (next != address(0) && pool[next].stake >= _stake) {
            prev = next;
            next = pool[next].next;
        }
        pool[_id] = Node(_stake, next, prev, true);
        if (prev == address(0)) poolHead = _id;
        else pool[prev].next = _id;
        if (next == address(0)) poolTail = _id;
        else pool[next].prev = _id;
        poolSize++;
    }

    function removeFromPool(address _id) private {
        Node storage node = pool[_id];
        if (node.prev == address(0)) poolHead = node.next;
        else pool[node.prev].next = node.next;
        if (node.next == address(0)) poolTail = node.prev;
        else pool[node.next].prev = node.prev;
        delete pool[_id];
        poolSize--;
    }
}
