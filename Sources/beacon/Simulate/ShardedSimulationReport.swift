import BeaconReports
import BeaconSimulation

extension ShardedSimulationOutcome {
    /// `beacon simulate dispatcher --managers N`'s report: each manager's share, the handoff after
    /// the kill (and the rejoin), and what reached the store, each held to the bound.
    func report() -> BenchReport {
        let killed = "m\(plan.managers)"
        var report = BenchReport(
            title:
                "Sharded dispatchers, \(plan.managers) managers, \(plan.nodes) nodes, \(plan.duration) virtual time",
            machine: MachineDescription.current, allocationCounting: false)

        var shares = BenchReport.Section(title: "shards once every manager joined (fair share = 1)")
        for (index, ratio) in shareRatios.enumerated() {
            shares.add("m\(index + 1): nodes held ÷ fair share", ratio, "×", atMost: 1.1, atLeast: 0.9)
        }
        for (index, beats) in beatsPerManager.enumerated() {
            shares.add("m\(index + 1): heartbeats taken", Double(beats), "")
        }
        report.sections.append(shares)

        let ideal = Self.idealMove(nodes: plan.nodes, managers: plan.managers)
        var handoff = BenchReport.Section(
            title: "handoff (\(killed) killed at \(plan.killAt), lease TTL \(plan.leaseTTL))")
        handoff.add("nodes moved", Double(moved), "")
        handoff.add("nodes moved ÷ the killed manager's fair share", Double(moved) / ideal, "×", atMost: 1.1)
        handoff.add("kill → new session, p50", DispatcherSimulationOutcome.percentile(resessionSeconds, 0.5), "s")
        handoff.add("kill → new session, p99", DispatcherSimulationOutcome.percentile(resessionSeconds, 0.99), "s")
        handoff.add(
            "kill → new session, max (bound: lease TTL + 2 periods)", longestResession, "s", atMost: resessionBound)
        handoff.add("false DOWNs (live nodes written DOWN)", Double(falseDowns), "", atMost: 0)
        handoff.add("reported statuses missing from the store", Double(statusesLost), "", atMost: 0)
        handoff.add("nodes without a session at the end", Double(unsessioned), "", atMost: 0)
        report.sections.append(handoff)

        if let movedOnRejoin, let rejoin = plan.rejoinAfter {
            var join = BenchReport.Section(title: "rejoin (\(killed) back \(rejoin) after the kill)")
            join.add("nodes moved", Double(movedOnRejoin), "")
            join.add(
                "nodes moved ÷ ideal (a 1/\(plan.managers) share)", Double(movedOnRejoin) / ideal, "×", atMost: 1.1)
            report.sections.append(join)
        }

        let seconds = Double(plan.duration.components.seconds)
        var store = BenchReport.Section(title: "store traffic (a heartbeat writes nothing)")
        store.add(
            "steady state (10 s in to the kill): heartbeats per second", Double(steady.heartbeats) / steadySeconds, "/s"
        )
        store.add("steady state: store writes per second", Double(steady.writes) / steadySeconds, "/s", atMost: 0)
        store.add("whole run: heartbeats per second", Double(heartbeats) / seconds, "/s")
        store.add(
            "whole run: store writes per second (registrations, statuses, handoffs)", Double(storeWrites) / seconds,
            "/s")
        report.sections.append(store)
        return report
    }
}
