#if GRPC
/// A strict reader of Prometheus text exposition format (version 0.0.4), enough to check what
/// an endpoint serves: every line is a `# HELP`, a `# TYPE` or a sample `name{labels} value`,
/// every sample belongs to a family whose TYPE came before it, and values are numbers.
struct PrometheusExposition {
    /// Samples by their series, written `name{label="value",…}` as in the text (`name` alone
    /// without labels).
    private(set) var samples: [String: Double] = [:]
    /// Each family's type and help text.
    private(set) var types: [String: String] = [:]
    private(set) var help: [String: String] = [:]

    struct FormatError: Error, CustomStringConvertible {
        let line: String
        let reason: String
        var description: String { "\(reason): \(line)" }
    }

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                guard parts.count == 2, Self.isMetricName(parts[0]) else {
                    throw FormatError(line: String(line), reason: "malformed comment")
                }
                if line.hasPrefix("# HELP ") {
                    help[String(parts[0])] = String(parts[1])
                } else {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1]) else {
                        throw FormatError(line: String(line), reason: "unknown type")
                    }
                    guard types[String(parts[0])] == nil else {
                        throw FormatError(line: String(line), reason: "second TYPE")
                    }
                    types[String(parts[0])] = String(parts[1])
                }
            } else if line.hasPrefix("#") {
                continue
            } else {
                try readSample(line)
            }
        }
    }

    private mutating func readSample(_ line: Substring) throws {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
            throw FormatError(line: String(line), reason: "no value")
        }
        let series = line[..<space]
        let name = series.prefix { $0 != "{" }
        guard Self.isMetricName(name) else { throw FormatError(line: String(line), reason: "bad metric name") }
        if name.endIndex < series.endIndex {
            guard series.hasSuffix("}") else { throw FormatError(line: String(line), reason: "unclosed labels") }
            try Self.checkLabels(
                series[series.index(after: name.endIndex)..<series.index(before: series.endIndex)], line: line)
        }
        let family = Self.family(of: String(name), in: types)
        guard let family else { throw FormatError(line: String(line), reason: "sample before its TYPE") }
        if types[family] == "histogram", family == name {
            throw FormatError(line: String(line), reason: "histogram sample without _bucket, _sum or _count")
        }
        guard samples.updateValue(value, forKey: String(series)) == nil else {
            throw FormatError(line: String(line), reason: "repeated series")
        }
    }

    /// The family a sample belongs to: its own name, or a histogram's name without the suffix.
    private static func family(of name: String, in types: [String: String]) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return nil
    }

    private static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ":" else {
            return false
        }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    /// `a="x",b="y"`: label names, and quoted values with only `\\`, `\"` and `\n` escapes.
    private static func checkLabels(_ text: Substring, line: Substring) throws {
        var rest = text
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "="), isMetricName(rest[..<equals]), !rest[..<equals].contains(":")
            else {
                throw FormatError(line: String(line), reason: "bad label name")
            }
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "\"" else { throw FormatError(line: String(line), reason: "unquoted label value") }
            rest = rest.dropFirst()
            var closed = false
            while let character = rest.first {
                rest = rest.dropFirst()
                if character == "\\" {
                    guard let escaped = rest.first, "\\\"n".contains(escaped) else {
                        throw FormatError(line: String(line), reason: "bad escape")
                    }
                    rest = rest.dropFirst()
                } else if character == "\"" {
                    closed = true
                    break
                }
            }
            guard closed else { throw FormatError(line: String(line), reason: "unclosed label value") }
            if rest.first == "," {
                rest = rest.dropFirst()
            } else if !rest.isEmpty {
                throw FormatError(line: String(line), reason: "junk after label")
            }
        }
    }

    /// The value of the series `name{labels}`, `labels` written as the endpoint writes them
    /// (`state="ready"`).
    func value(_ name: String, _ labels: String = "") -> Double? {
        samples[labels.isEmpty ? name : "\(name){\(labels)}"]
    }
}
#endif
