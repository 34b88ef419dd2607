import BeaconCoordination

/// One participant's identity in its group: who it is and under which lease it registered.
struct ParticipantIdentity: Sendable {
    let path: GroupPath
    let hostname: String
    let lease: LeaseID
    let exchange: ExchangeRecord
    // Made once: a participant steps on every change of its group.
    let exchangeKey: String
    let electionKey: String

    init(path: GroupPath, hostname: String, lease: LeaseID, exchange: ExchangeRecord) {
        self.path = path
        self.hostname = hostname
        self.lease = lease
        self.exchange = exchange
        exchangeKey = path.exchangeKey(hostname)
        electionKey = path.electionKey(lease)
    }
}

/// What a participant does after its view changed: the participant's logic as a pure function of
/// the view, so it is tested without a store or a clock.
struct GroupStep: Sendable, Equatable {
    /// The participant's exchange or election key is missing or stale: register again.
    var mustRegister = false
    /// This participant leads and its decision differs from the stored one: write it.
    var write: ScheduledWrite?
    /// The stored decision, to report (nil before the first one).
    var result: [String]?
    /// What to report in band: the strategy could not decide, or (for a participant standing by)
    /// another participant holds its host name; the strategy's failure when both.
    var failure: SchedulerError?
    var isLeader = false

    static func compute(
        view: GroupView, identity: ParticipantIdentity, strategy: any SchedulingStrategy, maxCount: Int,
        hostsFilter: Set<String>?
    ) -> GroupStep {
        var step = GroupStep()
        let exchange = view[identity.exchangeKey]
        let election = view[identity.electionKey]
        // A host name's key under another lease belongs to another live participant of that name
        // (the store deletes a lapsed lease's keys), which registered after this one: this one
        // stands by rather than write its own over it, which the other would undo, forever.
        if let exchange, exchange.lease != identity.lease {
            step.failure = .hostNameTaken(path: view.path.description, hostname: identity.hostname)
        } else {
            step.mustRegister = exchange?.value != identity.exchange.text || election == nil
        }
        step.result = view.scheduledHosts
        guard let election, view.leader?.key == election.key else { return step }
        step.isLeader = true
        var hosts = view.hosts
        if let hostsFilter { hosts.removeAll { !hostsFilter.contains($0.name) } }
        let input = StrategyInput(
            group: view.path, hosts: hosts, maxCount: maxCount, previousState: view.strategyState?.value)
        do {
            let decision = try strategy.schedule(input)
            // A decision that is already sorted and without repeats, as the stored one is once
            // parsed, is joined as it stands: the leader steps on every change of its group, and
            // sorting a large group's names through a set each time was most of its step.
            let value =
                decision.hosts == view.scheduledHosts
                ? decision.hosts.joined(separator: ",") : GroupPath.choiceValue(decision.hosts)
            guard value != view.scheduled?.value || (decision.state ?? "") != (view.strategyState?.value ?? "") else {
                return step
            }
            step.write = ScheduledWrite(
                value: value, state: decision.state ?? "",
                fence: [
                    .createRevision(key: election.key, equals: election.createRevision),
                    .modRevision(key: view.path.scheduledKey, equals: view.scheduled?.modRevision ?? 0),
                    .modRevision(key: view.path.strategyStateKey, equals: view.strategyState?.modRevision ?? 0),
                ])
        } catch {
            step.failure = error
        }
        return step
    }
}

/// The leader's write of a decision, fenced: it applies only while the writer still holds the
/// oldest election key and nobody wrote the decision since the writer read it.
struct ScheduledWrite: Sendable, Equatable {
    var value: String
    var state: String
    var fence: [StoreCondition]
}
