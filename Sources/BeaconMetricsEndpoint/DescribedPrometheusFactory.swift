#if GRPC
package import BeaconDispatcher
package import CoreMetrics
package import Prometheus

/// A swift-metrics backend that records into a Prometheus registry, like swift-prometheus's
/// `PrometheusMetricsFactory`, and also gives each metric it has a ``MetricDescription`` for its
/// `# HELP` line and its histogram buckets. (swift-metrics has no help text, and the registry
/// refuses to add one to a metric it already holds, so the text must go in when the metric is
/// made.)
package struct DescribedPrometheusFactory: MetricsFactory {
    /// Where the metrics are recorded; a scrape emits it.
    package let registry: PrometheusCollectorRegistry
    private let descriptions: [String: MetricDescription]

    package init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        describing descriptions: [MetricDescription]
    ) {
        self.registry = registry
        self.descriptions = Dictionary(descriptions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The registry's descriptor for a metric: its full name and help text, or none.
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        // The name goes whole in `metricName`; an empty unit adds no suffix.
        MetricNameDescriptor(metricName: label, unitName: "", helpText: descriptions[label]?.help ?? "")
    }

    package func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    package func makeFloatingPointCounter(label: String, dimensions: [(String, String)])
        -> any FloatingPointCounterHandler
    {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    package func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        var buckets = Self.defaultValueBuckets
        if case .valueHistogram(let described) = descriptions[label]?.kind { buckets = described }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    package func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    package func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        var buckets = DispatcherMetrics.latencyBuckets
        if case .durationHistogram(let described) = descriptions[label]?.kind { buckets = described }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    package func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    package func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    package func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge {
            registry.unregisterGauge(gauge)
        } else if let histogram = handler as? ValueHistogram {
            registry.unregisterValueHistogram(histogram)
        }
    }

    package func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    package func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }

    /// Buckets of an undescribed aggregating recorder: swift-prometheus's own.
    private static let defaultValueBuckets: [Double] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
}
#endif
