import BeaconCore
import Foundation

/// Samples ranks 0..<count with probability ∝ (rank+1)^-exponent, by binary search on the CDF.
struct ZipfSampler {
    private let cumulative: [Double]

    init(count: Int, exponent: Double) {
        var running = 0.0
        var cumulative: [Double] = []
        cumulative.reserveCapacity(count)
        for rank in 1...count {
            running += pow(Double(rank), -exponent)
            cumulative.append(running)
        }
        self.cumulative = cumulative.map { $0 / running }
    }

    func sample(using random: inout SplitMix64) -> Int {
        let u = Double.random(in: 0..<1, using: &random)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] < u { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
