// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "./Manager.sol";

// Probabilistic-micropayment broker with the ABI, events, checks (in the same order) and revert strings of
// the Livepeer TicketBroker, so broadcaster code sees the devnet exactly as it would see Arbitrum One.
// Deposits and reserves are forwarded to the Minter; payouts are credited to the orchestrator's fees.
contract TicketBroker is Manager {
    // secp256k1 n / 2: signatures with a larger s are malleable copies and are refused.
    uint256 private constant HALF_CURVE_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    struct Ticket {
        address recipient;
        address sender;
        uint256 faceValue;
        uint256 winProb;
        uint256 senderNonce;
        bytes32 recipientRandHash;
        bytes auxData;
    }

    struct Sender {
        uint256 deposit;
        uint256 withdrawRound;
    }

    struct ReserveInfo {
        uint256 fundsRemaining;
        uint256 claimedInCurrentRound;
    }

    struct Reserve {
        uint256 funds;
        mapping(uint256 => uint256) claimedForRound;
        mapping(uint256 => mapping(address => uint256)) claimedByAddress;
    }

    mapping(address => Sender) private senders;
    mapping(address => Reserve) private reserves;

    uint256 public unlockPeriod;
    uint256 public ticketValidityPeriod;

    mapping(bytes32 => bool) public usedTickets;

    event DepositFunded(address indexed sender, uint256 amount);
    event ReserveFunded(address indexed reserveHolder, uint256 amount);
    event ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount);
    event WinningTicketRedeemed(
        address indexed sender,
        address indexed recipient,
        uint256 faceValue,
        uint256 winProb,
        uint256 senderNonce,
        uint256 recipientRand,
        bytes auxData
    );
    event WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount);
    event Unlock(address indexed sender, uint256 startRound, uint256 endRound);
    event UnlockCancelled(address indexed sender);
    event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve);

    modifier currentRoundInitialized() {
        require(roundsManager().currentRoundInitialized(), "current round is not initialized");
        _;
    }

    constructor(address _controller) Manager(_controller) {}

    function setUnlockPeriod(uint256 _unlockPeriod) external onlyControllerOwner {
        unlockPeriod = _unlockPeriod;
        emit ParameterUpdate("unlockPeriod");
    }

    function setTicketValidityPeriod(uint256 _ticketValidityPeriod) external onlyControllerOwner {
        require(_ticketValidityPeriod > 0, "ticketValidityPeriod must be greater than 0");
        ticketValidityPeriod = _ticketValidityPeriod;
        emit ParameterUpdate("ticketValidityPeriod");
    }

    // ---- funding

    function fundDeposit() external payable whenSystemNotPaused {
        addDeposit(msg.sender, msg.value);
        minter().depositETH{value: msg.value}();
        emit DepositFunded(msg.sender, msg.value);
    }

    function fundReserve() external payable whenSystemNotPaused {
        addReserve(msg.sender, msg.value);
        minter().depositETH{value: msg.value}();
    }

    function fundDepositAndReserve(uint256 _depositAmount, uint256 _reserveAmount) external payable {
        fundDepositAndReserveFor(msg.sender, _depositAmount, _reserveAmount);
    }

    // Event order matches the real contract: [UnlockCancelled], ReserveFunded, DepositFunded.
    function fundDepositAndReserveFor(address _addr, uint256 _depositAmount, uint256 _reserveAmount)
        public
        payable
        whenSystemNotPaused
    {
        require(
            msg.value == _depositAmount + _reserveAmount,
            "msg.value does not equal sum of deposit amount and reserve amount"
        );
        addDeposit(_addr, _depositAmount);
        addReserve(_addr, _reserveAmount);
        minter().depositETH{value: msg.value}();
        emit DepositFunded(_addr, _depositAmount);
    }

    // ---- unlock / withdraw

    function unlock() external whenSystemNotPaused {
        Sender storage sender = senders[msg.sender];
        require(sender.deposit > 0 || reserves[msg.sender].funds > 0, "sender deposit and reserve are zero");
        require(sender.withdrawRound == 0, "unlock already initiated");

        uint256 round = roundsManager().currentRound();
        sender.withdrawRound = round + unlockPeriod;
        emit Unlock(msg.sender, round, sender.withdrawRound);
    }

    function cancelUnlock() external whenSystemNotPaused {
        cancelUnlockOf(msg.sender);
    }

    function withdraw() external whenSystemNotPaused {
        Sender storage sender = senders[msg.sender];
        uint256 deposit = sender.deposit;
        uint256 reserve = reserves[msg.sender].funds;

        require(deposit > 0 || reserve > 0, "sender deposit and reserve are zero");
        require(sender.withdrawRound > 0, "no unlock request in progress");
        require(!isLocked(sender), "account is locked");

        sender.deposit = 0;
        // Only the funds are cleared; per-round claim records stay, as in the real contract.
        reserves[msg.sender].funds = 0;
        minter().trustedWithdrawETH(payable(msg.sender), deposit + reserve);
        emit Withdrawal(msg.sender, deposit, reserve);
    }

    // ---- redemption

    function redeemWinningTicket(Ticket memory _ticket, bytes memory _sig, uint256 _recipientRand)
        public
        whenSystemNotPaused
        currentRoundInitialized
    {
        bytes32 ticketHash = getTicketHash(_ticket);
        uint256 creationRound = requireValidWinningTicket(_ticket, ticketHash, _sig, _recipientRand);

        Sender storage sender = senders[_ticket.sender];
        require(isLocked(sender), "sender is unlocked");
        require(sender.deposit > 0 || reserves[_ticket.sender].funds > 0, "sender deposit and reserve are zero");

        usedTickets[ticketHash] = true;

        uint256 amountToTransfer;
        if (_ticket.faceValue > sender.deposit) {
            // The deposit is short: pay all of it plus what this recipient may still claim from the reserve.
            amountToTransfer =
                sender.deposit +
                claimFromReserve(_ticket.sender, _ticket.recipient, _ticket.faceValue - sender.deposit);
            sender.deposit = 0;
        } else {
            amountToTransfer = _ticket.faceValue;
            sender.deposit -= _ticket.faceValue;
        }

        if (amountToTransfer > 0) {
            bondingManager().updateTranscoderWithFees(_ticket.recipient, amountToTransfer, creationRound);
            emit WinningTicketTransfer(_ticket.sender, _ticket.recipient, amountToTransfer);
        }

        emit WinningTicketRedeemed(
            _ticket.sender,
            _ticket.recipient,
            _ticket.faceValue,
            _ticket.winProb,
            _ticket.senderNonce,
            _recipientRand,
            _ticket.auxData
        );
    }

    // Redeems what it can and silently skips tickets that fail, like the real wrapper.
    function batchRedeemWinningTickets(Ticket[] memory _tickets, bytes[] memory _sigs, uint256[] memory _recipientRands)
        external
        whenSystemNotPaused
        currentRoundInitialized
    {
        for (uint256 i = 0; i < _tickets.length; i++) {
            (bool ok, ) = address(this).call(
                abi.encodeCall(this.redeemWinningTicket, (_tickets[i], _sigs[i], _recipientRands[i]))
            );
            ok;
        }
    }

    // ---- views

    function isUnlockInProgress(address _sender) external view returns (bool) {
        return senders[_sender].withdrawRound > 0;
    }

    function getSenderInfo(address _sender) external view returns (Sender memory sender, ReserveInfo memory reserve) {
        sender = senders[_sender];
        reserve = getReserveInfo(_sender);
    }

    function getReserveInfo(address _reserveHolder) public view returns (ReserveInfo memory info) {
        info.fundsRemaining = reserves[_reserveHolder].funds;
        info.claimedInCurrentRound = reserves[_reserveHolder].claimedForRound[roundsManager().currentRound()];
    }

    // Each active orchestrator may take an equal share of the reserve as it stood at the start of the round.
    function claimableReserve(address _reserveHolder, address _claimant) public view returns (uint256) {
        Reserve storage reserve = reserves[_reserveHolder];
        uint256 round = roundsManager().currentRound();

        if (!bondingManager().isActiveTranscoder(_claimant)) return 0;
        uint256 poolSize = bondingManager().getTranscoderPoolSize();
        if (poolSize == 0) return 0;

        uint256 totalClaimable = reserve.funds + reserve.claimedForRound[round];
        return totalClaimable / poolSize - reserve.claimedByAddress[round][_claimant];
    }

    function claimedReserve(address _reserveHolder, address _claimant) external view returns (uint256) {
        return reserves[_reserveHolder].claimedByAddress[roundsManager().currentRound()][_claimant];
    }

    function getTicketHash(Ticket memory _ticket) public pure returns (bytes32) {
        return
            keccak256(
                abi.encodePacked(
                    _ticket.recipient,
                    _ticket.sender,
                    _ticket.faceValue,
                    _ticket.winProb,
                    _ticket.senderNonce,
                    _ticket.recipientRandHash,
                    _ticket.auxData
                )
            );
    }

    // ---- internals

    function addDeposit(address _sender, uint256 _amount) private {
        senders[_sender].deposit += _amount;
        // A sender topping itself up gives up its pending unlock; a third party paying for it does not.
        if (msg.sender == _sender && senders[_sender].withdrawRound > 0) cancelUnlockOf(_sender);
    }

    function addReserve(address _holder, uint256 _amount) private {
        reserves[_holder].funds += _amount;
        emit ReserveFunded(_holder, _amount);
        if (msg.sender == _holder && senders[_holder].withdrawRound > 0) cancelUnlockOf(_holder);
    }

    function cancelUnlockOf(address _sender) private {
        require(senders[_sender].withdrawRound > 0, "no unlock request in progress");
        senders[_sender].withdrawRound = 0;
        emit UnlockCancelled(_sender);
    }

    function isLocked(Sender storage _sender) private view returns (bool) {
        return _sender.withdrawRound == 0 || roundsManager().currentRound() < _sender.withdrawRound;
    }

    function claimFromReserve(address _holder, address _claimant, uint256 _amount) private returns (uint256) {
        uint256 claimable = claimableReserve(_holder, _claimant);
        uint256 claimAmount = _amount > claimable ? claimable : _amount;
        if (claimAmount > 0) {
            uint256 round = roundsManager().currentRound();
            Reserve storage reserve = reserves[_holder];
            reserve.claimedForRound[round] += claimAmount;
            reserve.claimedByAddress[round][_claimant] += claimAmount;
            reserve.funds -= claimAmount;
            emit ReserveClaimed(_holder, _claimant, claimAmount);
        }
        return claimAmount;
    }

    // Checks in the order of the real contract; returns the ticket's creation round.
    function requireValidWinningTicket(
        Ticket memory _ticket,
        bytes32 _ticketHash,
        bytes memory _sig,
        uint256 _recipientRand
    ) private view returns (uint256 creationRound) {
        require(_ticket.recipient != address(0), "ticket recipient is null address");
        require(_ticket.sender != address(0), "ticket sender is null address");

        creationRound = requireValidAuxData(_ticket.auxData);

        require(
            keccak256(abi.encodePacked(_recipientRand)) == _ticket.recipientRandHash,
            "recipientRand does not match recipientRandHash"
        );
        require(!usedTickets[_ticketHash], "ticket is used");
        require(recoverTicketSigner(_ticketHash, _sig) == _ticket.sender, "invalid signature over ticket hash");
        require(
            uint256(keccak256(abi.encodePacked(_sig, _recipientRand))) < _ticket.winProb,
            "ticket did not win"
        );
    }

    // auxData = creationRound (32 bytes) ‖ creationRoundBlockHash (32 bytes).
    function requireValidAuxData(bytes memory _auxData) private view returns (uint256 creationRound) {
        require(_auxData.length == 64, "invalid length for ticket auxData: must be 64 bytes");
        bytes32 creationRoundBlockHash;
        assembly {
            creationRound := mload(add(_auxData, 32))
            creationRoundBlockHash := mload(add(_auxData, 64))
        }

        bytes32 blockHash = roundsManager().blockHashForRound(creationRound);
        require(blockHash != bytes32(0), "ticket creationRound does not have a block hash");
        require(creationRoundBlockHash == blockHash, "ticket creationRoundBlockHash invalid for creationRound");
        require(creationRound + ticketValidityPeriod > roundsManager().currentRound(), "ticket is expired");
    }

    // EIP-191 personal-sign recovery over the 32 raw hash bytes, with the same refusals (and messages) as the
    // OpenZeppelin 4.9 ECDSA library the protocol uses: exact 65-byte length, low s, a recoverable v.
    function recoverTicketSigner(bytes32 _ticketHash, bytes memory _sig) private pure returns (address signer) {
        require(_sig.length == 65, "INVALID_SIGNATURE_LENGTH");
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(_sig, 32))
            s := mload(add(_sig, 64))
            v := byte(0, mload(add(_sig, 96)))
        }
        require(uint256(s) <= HALF_CURVE_ORDER, "ECDSA: invalid signature 's' value");
        bytes32 digest = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", _ticketHash));
        // ecrecover yields the zero address for a v other than 27/28 or an unrecoverable point.
        signer = ecrecover(digest, v, r, s);
        require(signer != address(0), "ECDSA: invalid signature");
    }
}
