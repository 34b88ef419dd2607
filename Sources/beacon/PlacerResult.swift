import BeaconReports

/// One placer at one member count, as `beacon bench placers` reports it.
struct PlacerResult: Encodable {
    var name: String
    var members: Int
    /// Keys used for the balance and movement figures.
    var keys: Int
    var nsPerLookupCold: Double
    var nsPerLookupHot: Double
    var allocsPerLookup: Double
    var maxOverAvg: Double
    var stddevOverAvg: Double
    var movedOnJoin: Double?
    var movedOnLeave: Double?
    /// 1/N: the share a leave must move. A join must move 1/(N+1) (`idealMovedOnJoin`).
    var idealMoved: Double
    var idealMovedOnJoin: Double
    var tableBytes: Int
    var buildMicros: Double
    var updateMicros: Double?
    var nsPerReplicaSet3: Double?
    var parallelSpeedup: Double?
    /// Per-member key counts, sorted; drawn by the HTML report, not part of the JSON.
    var sortedLoads: [Int] = []

    enum CodingKeys: String, CodingKey {
        case name, members, keys, nsPerLookupCold, nsPerLookupHot, allocsPerLookup, maxOverAvg, stddevOverAvg
        case movedOnJoin, movedOnLeave, idealMoved, idealMovedOnJoin, tableBytes, buildMicros, updateMicros
        case nsPerReplicaSet3, parallelSpeedup
    }

    /// Writes every field, with `null` for a figure that does not apply, so readers see a fixed shape.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(members, forKey: .members)
        try c.encode(keys, forKey: .keys)
        try c.encode(nsPerLookupCold, forKey: .nsPerLookupCold)
        try c.encode(nsPerLookupHot, forKey: .nsPerLookupHot)
        try c.encode(allocsPerLookup, forKey: .allocsPerLookup)
        try c.encode(maxOverAvg, forKey: .maxOverAvg)
        try c.encode(stddevOverAvg, forKey: .stddevOverAvg)
        try c.encode(movedOnJoin, forKey: .movedOnJoin)
        try c.encode(movedOnLeave, forKey: .movedOnLeave)
        try c.encode(idealMoved, forKey: .idealMoved)
        try c.encode(idealMovedOnJoin, forKey: .idealMovedOnJoin)
        try c.encode(tableBytes, forKey: .tableBytes)
        try c.encode(buildMicros, forKey: .buildMicros)
        try c.encode(updateMicros, forKey: .updateMicros)
        try c.encode(nsPerReplicaSet3, forKey: .nsPerReplicaSet3)
        try c.encode(parallelSpeedup, forKey: .parallelSpeedup)
    }
}

/// The whole run.
struct PlacerReport: Encodable {
    var placers: [PlacerResult]
    var hashNsPerKey: Double
    var keyLength: Int
    var repeats: Int
    var allocationCounting: Bool
    /// Issue 23's targets held against the run's N = 1 000 rows; nil without such rows.
    let targets: BenchReport.Section?

    init(placers: [PlacerResult], hashNsPerKey: Double, keyLength: Int, repeats: Int, allocationCounting: Bool) {
        self.placers = placers
        self.hashNsPerKey = hashNsPerKey
        self.keyLength = keyLength
        self.repeats = repeats
        self.allocationCounting = allocationCounting
        targets = PlacerTargets.section(placers: placers, hashNsPerKey: hashNsPerKey, keyLength: keyLength)
    }
}

/// Balance figures from per-member key counts.
struct LoadStatistics {
    let maxOverAvg: Double
    let stddevOverAvg: Double
    let sorted: [Int]

    init(_ counts: [Int]) {
        let average = Double(counts.reduce(0, +)) / Double(max(1, counts.count))
        let variance =
            counts.reduce(0.0) { $0 + (Double($1) - average) * (Double($1) - average) } / Double(max(1, counts.count))
        maxOverAvg = average == 0 ? 0 : Double(counts.max() ?? 0) / average
        stddevOverAvg = average == 0 ? 0 : variance.squareRoot() / average
        sorted = counts.sorted()
    }
}
