/// What a metric means, for a backend that documents what it exports (a Prometheus `# HELP`
/// line) and chooses a histogram's buckets. swift-metrics carries neither, so each module that
/// emits metrics describes them in a list next to its instruments.
package struct MetricDescription: Sendable {
    /// How the metric is recorded, and a histogram's bucket bounds.
    package enum Kind: Sendable {
        case counter
        case gauge
        /// A swift-metrics `Timer`: durations, exported in seconds.
        case durationHistogram(buckets: [Duration])
        /// An aggregating swift-metrics `Recorder`: plain numbers.
        case valueHistogram(buckets: [Double])
    }

    /// The metric's label, as given to swift-metrics and exported.
    package let name: String
    /// One sentence on what is counted or measured.
    package let help: String
    package let kind: Kind

    package init(_ name: String, _ kind: Kind, _ help: String) {
        self.name = name
        self.kind = kind
        self.help = help
    }
}
