import Foundation

/// An axis's domain and tick values. Linear axes step by 1, 2 or 5 × 10^k and start and end on a
/// tick; logarithmic axes tick at powers of ten (and at 2 and 5 × 10^k when they span few
/// decades), so every tick label is a round number a reader can interpolate between.
package struct AxisScale: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case linear
        case logarithmic
    }

    package let kind: Kind
    /// The domain's ends, both on a tick.
    package let lower: Double
    package let upper: Double
    /// The tick values, ascending, from ``lower`` to ``upper``.
    package let ticks: [Double]

    /// A linear axis covering `minimum...maximum` (and zero, when `includingZero`), with about
    /// `targetTicks` intervals.
    package init(linear minimum: Double, _ maximum: Double, includingZero: Bool = true, targetTicks: Int = 5) {
        var low = includingZero ? Swift.min(minimum, 0) : minimum
        var high = includingZero ? Swift.max(maximum, 0) : maximum
        if !low.isFinite || !high.isFinite { (low, high) = (0, 1) }
        if high <= low {
            // One value: a domain around it, so its point sits inside the plot rather than on an edge.
            let pad = low == 0 ? 1 : abs(low) / 2
            (low, high) = (low - (includingZero && low >= 0 ? 0 : pad), high + pad)
        }
        let step = Self.niceStep((high - low) / Double(Swift.max(1, targetTicks)))
        let first = (low / step).rounded(.down)
        let last = (high / step).rounded(.up)
        kind = .linear
        lower = first * step
        upper = last * step
        // Multiplying the index (rather than adding steps) keeps 0.1 × 3 from drifting to 0.30000000000000004.
        ticks = (0...Int(last - first)).map { Self.clean((first + Double($0)) * step, step: step) }
    }

    /// A logarithmic axis covering the positive values in `minimum...maximum`, from the power of
    /// ten at or below the smallest to the one at or above the largest.
    package init(logarithmic minimum: Double, _ maximum: Double) {
        let low = minimum > 0 && minimum.isFinite ? minimum : Swift.max(maximum / 10, 1e-9)
        let high = maximum.isFinite && maximum > low ? maximum : low * 10
        var first = log10(low).rounded(.down)
        var last = log10(high).rounded(.up)
        if last <= first { last = first + 1 }
        if last - first > 12 { first = last - 12 }
        kind = .logarithmic
        lower = pow(10, first)
        upper = pow(10, last)
        let decades = Int(last - first)
        let multiples: [Double] = decades <= 2 ? [1, 2, 5] : [1]
        var ticks: [Double] = []
        for decade in 0...decades {
            let power = pow(10, first + Double(decade))
            for multiple in multiples where multiple * power <= upper * 1.000_001 { ticks.append(multiple * power) }
        }
        self.ticks = ticks
    }

    /// Where `value` falls on the axis, 0 at ``lower`` and 1 at ``upper`` (clamped, so an
    /// out-of-domain value stays on the plot's edge).
    package func position(_ value: Double) -> Double {
        let raw: Double
        switch kind {
        case .linear: raw = (value - lower) / (upper - lower)
        case .logarithmic: raw = value > 0 ? (log10(value) - log10(lower)) / (log10(upper) - log10(lower)) : 0
        }
        return raw.isFinite ? Swift.min(1, Swift.max(0, raw)) : 0
    }

    /// A tick's label: as many decimals as the step needs, and k or M for thousands and millions.
    package func label(_ value: Double) -> String {
        Self.format(value, decimals: decimals)
    }

    private var decimals: Int {
        let steps = zip(ticks.dropFirst(), ticks).map { $0 - $1 }
        let smallest = Swift.min(steps.min() ?? 1, ticks.first(where: { $0 > 0 }) ?? 1)
        return Swift.max(0, Int(-log10(smallest).rounded(.down)))
    }

    static func format(_ value: Double, decimals: Int) -> String {
        let magnitude = abs(value)
        if magnitude >= 1_000_000, (value / 1_000_000).rounded() == value / 1_000_000 {
            return String(format: "%.0fM", value / 1_000_000)
        }
        if magnitude >= 10_000, (value / 1000).rounded() == value / 1000 {
            return String(format: "%.0fk", value / 1000)
        }
        return String(format: "%.\(decimals)f", value)
    }

    /// The 1, 2 or 5 × 10^k at or above `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let magnitude = pow(10, log10(rough).rounded(.down))
        let residual = rough / magnitude
        let multiple: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10
        return multiple * magnitude
    }

    /// `value` rounded to the step's precision, so labels print exactly.
    private static func clean(_ value: Double, step: Double) -> Double {
        let scale = pow(10, Swift.max(0, -log10(step).rounded(.down) + 1))
        return (value * scale).rounded() / scale
    }
}
