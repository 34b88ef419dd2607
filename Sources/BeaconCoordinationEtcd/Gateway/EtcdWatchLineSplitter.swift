import BeaconCoordination
import Foundation

/// Cuts a `/v3/watch` response body into its messages: the gateway streams one JSON object per
/// line, and the HTTP client hands the body over in chunks that split lines anywhere.
struct EtcdWatchLineSplitter {
    /// The longest line kept while waiting for its end, as the store's unary answers: a stream
    /// that never ends its line must not grow without bound.
    static let maximumLineLength = 16 << 20

    private var pending = Data()

    /// Adds a chunk; returns the non-empty lines it completes, in order, without their newline.
    ///
    /// - Throws: `CoordinationError/failure(_:)` once an unfinished line is longer than
    ///   ``maximumLineLength``.
    mutating func lines(appending chunk: some Sequence<UInt8>) throws(CoordinationError) -> [Data] {
        let scanFrom = pending.endIndex
        pending.append(contentsOf: chunk)
        var lines: [Data] = []
        var lineStart = pending.startIndex
        var index = scanFrom
        while let newline = pending[index...].firstIndex(of: UInt8(ascii: "\n")) {
            if newline > lineStart { lines.append(pending[lineStart..<newline]) }
            lineStart = newline + 1
            index = lineStart
        }
        if lineStart > pending.startIndex { pending = Data(pending[lineStart...]) }
        guard pending.count <= Self.maximumLineLength else {
            throw .failure("etcd: watch: a message longer than \(Self.maximumLineLength) bytes")
        }
        return lines.map { Data($0) }
    }
}
