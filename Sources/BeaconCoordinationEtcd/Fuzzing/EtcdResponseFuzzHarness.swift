import BeaconCoordination
import BeaconCore
import Foundation

/// The `EtcdResponseFuzz` libFuzzer target's logic: the etcd gateway's answers, through the
/// decoding the coordination store runs (``EtcdGatewayDecoder`` and ``EtcdWatchLineSplitter``).
///
/// The first byte picks the answer (range, txn, lease grant, keepalive, revoke, watch stream,
/// failed call) and how it is made:
///
/// - **Built** (first byte below 0xC0): the rest of the input fills a model answer
///   (``EtcdResponseModel``), which is written as gateway JSON in a style the input also picks
///   (strings or numbers, defaults omitted or written, spacing, field order, unread fields).
///   The decoder must return exactly the model's values, or refuse exactly where the model
///   breaks a rule; a watch stream is fed in chunks the input cuts.
/// - **Arbitrary** (0xC0 and up): the rest is the body, as is. Nothing may trap; a decoded answer
///   must keep the decoder's promises, and written back as gateway JSON it must decode to the
///   same values; a watch body must split into the same lines whatever its chunks.
///
/// It lives in the library (with `package` access) so the unit tests replay the committed
/// inputs through the same code. Not for use outside Beacon's tests and fuzzers.
package enum EtcdResponseFuzzHarness {
    enum Answer: CaseIterable {
        case range, txn, leaseGrant, keepAlive, revoke, watch, failure
    }

    /// Runs one input; returns a description of the first broken property, or `nil`.
    package static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var bytes = FuzzByteReader(input)
        let selector = bytes.byte()
        let answer = Answer.allCases[selector % Answer.allCases.count]
        if selector >= 0xC0 { return arbitrary(answer, Data(bytes.rest())) }
        switch answer {
        case .range: return builtRange(&bytes)
        case .txn: return builtTxn(&bytes)
        case .leaseGrant: return builtLeaseGrant(&bytes)
        case .keepAlive: return builtKeepAlive(&bytes)
        case .revoke: return builtRevoke(&bytes)
        case .watch: return builtWatch(&bytes)
        case .failure: return builtFailure(&bytes)
        }
    }

    // MARK: Built answers

    static func builtRange(_ bytes: inout FuzzByteReader) -> String? {
        let style = bytes.byte()
        let writer = EtcdGatewayWriter(style: style)
        let more = style & 32 != 0
        let revision = EtcdResponseModel.revision(bytes.byte())
        let kvs = (0..<bytes.byte() % 9).map { _ in EtcdResponseModel.KeyValue(reading: &bytes, near: revision) }
        let body = rangeJSON(revision: revision, kvs, more: more, writer)
        let values = kvs.map(\.expectedValue)
        let expected: [StoredValue]? =
            revision >= 1 && revision < .max && values.allSatisfy({ $0.map { $0.modRevision <= revision } ?? false })
                && (!more || !values.isEmpty)
            ? values.compactMap { $0 } : nil
        let decoded = try? EtcdGatewayDecoder.rangePage(Data(body.utf8))
        switch (expected, decoded) {
        case (nil, nil):
            return nil
        case (let expected?, let decoded?):
            guard decoded.snapshot.revision == revision, decoded.snapshot.values == expected, decoded.more == more
            else {
                return
                    "range \(body) decoded to \(decoded.snapshot.values) at \(decoded.snapshot.revision), more \(decoded.more), expected \(expected) at \(revision), more \(more)"
            }
            return nil
        case (nil, let decoded?):
            return
                "range \(body) breaks a rule but decoded to \(decoded.snapshot.values) at \(decoded.snapshot.revision)"
        case (let expected?, nil):
            return "range \(body) was refused, expected \(expected) at \(revision)"
        }
    }

    static func builtTxn(_ bytes: inout FuzzByteReader) -> String? {
        let writer = EtcdGatewayWriter(style: bytes.byte())
        let succeeded = bytes.byte() & 1 == 1
        let body = writer.object([("header", writer.header(revision: 7)), ("succeeded", writer.bool(succeeded))])
        let decoded = try? EtcdGatewayDecoder.outcome(txn: Data(body.utf8))
        return decoded == TransactionOutcome(succeeded: succeeded, revision: 7)
            ? nil : "txn \(body) decoded to \(String(describing: decoded)), expected \(succeeded)"
    }

    static func builtLeaseGrant(_ bytes: inout FuzzByteReader) -> String? {
        let writer = EtcdGatewayWriter(style: bytes.byte())
        let id: Int64 = [0, 1, -1, 0x694d_7d5a_5a0c_1234, .max, .min][bytes.byte() % 6]
        let ttl: Int64 = [0, 1, 2, 5, 60, -1, 9_000_000_000, 9_000_000_001, .max, .min][bytes.byte() % 10]
        let body = writer.object([
            ("header", writer.header(revision: 3)), ("ID", writer.int64(id)), ("TTL", writer.int64(ttl)),
        ])
        let expected =
            id != 0 && ttl >= 1 && ttl <= 9_000_000_000 ? GrantedLease(id: LeaseID(id), ttl: .seconds(ttl)) : nil
        let decoded = try? EtcdGatewayDecoder.grantedLease(Data(body.utf8))
        return decoded == expected
            ? nil
            : "lease grant \(body) decoded to \(String(describing: decoded)), expected \(String(describing: expected))"
    }

    static func builtKeepAlive(_ bytes: inout FuzzByteReader) -> String? {
        let writer = EtcdGatewayWriter(style: bytes.byte())
        let shape = bytes.byte()
        let ttl: Int64 = [0, 1, 30, -1, .max][shape % 5]
        let result = writer.object([
            ("header", writer.header(revision: 3)), ("ID", writer.int64(77)), ("TTL", writer.int64(ttl)),
        ])
        let body = writer.object([("result", shape & 0x80 == 0 ? result : nil)])
        let expected = shape & 0x80 == 0 && ttl > 0
        let decoded = try? EtcdGatewayDecoder.isAlive(keepAlive: Data(body.utf8))
        return decoded == expected
            ? nil : "keepalive \(body) decoded to \(String(describing: decoded)), expected \(expected)"
    }

    static func builtRevoke(_ bytes: inout FuzzByteReader) -> String? {
        let writer = EtcdGatewayWriter(style: bytes.byte())
        let shape = bytes.byte() % 5
        let body = [writer.object([("header", writer.header(revision: 4))]), "{}", "[]", "null", "\"revoked\""][shape]
        let accepted = (try? EtcdGatewayDecoder.acknowledgement(Data(body.utf8), of: "lease revoke")) != nil
        return accepted == (shape < 2) ? nil : "revoke answer \(body) was \(accepted ? "accepted" : "refused")"
    }

    /// A stream of watch messages, one per line, cut into chunks anywhere: the store must yield
    /// the model's batches in order and stop at the first message that must be refused.
    static func builtWatch(_ bytes: inout FuzzByteReader) -> String? {
        let writer = EtcdGatewayWriter(style: bytes.byte())
        var revision = EtcdResponseModel.revision(bytes.byte())
        let messages = (0..<1 + bytes.byte() % 4).map { _ in
            EtcdResponseModel.WatchMessage(reading: &bytes, after: &revision)
        }
        let endsWithNewline = bytes.byte() & 1 == 0
        var stream = messages.map { $0.json(writer) }.joined(separator: writer.json.spaced ? "\n\n" : "\n")
        if endsWithNewline { stream += "\n" }
        // The store decodes a line once its newline arrives: an unfinished last line is never read.
        var expected: [[StoreChange]] = []
        var expectFailure = false
        for message in messages.dropLast(endsWithNewline ? 0 : 1) {
            guard let changes = message.expectedChanges else {
                expectFailure = true
                break
            }
            if !changes.isEmpty { expected.append(changes) }
        }
        let (batches, failure) = readWatch(Data(stream.utf8), chunks: &bytes)
        if batches != expected || (failure != nil) != expectFailure {
            return
                "watch stream \(stream.debugDescription) yielded \(batches) then \(failure.map { "\($0)" } ?? "no error"), expected \(expected) then \(expectFailure ? "an error" : "no error")"
        }
        return nil
    }

    static func builtFailure(_ bytes: inout FuzzByteReader) -> String? {
        let status = UInt(400 + bytes.byte() % 200)
        let writer = EtcdGatewayWriter(style: bytes.byte())
        let error = EtcdResponseModel.text(&bytes)
        let message = EtcdResponseModel.text(&bytes)
        let body: String
        let expected: String
        switch bytes.byte() % 3 {
        case 0:
            // etcd 3.4's gateway.
            body = writer.object([
                ("error", FuzzJSONWriter.quoted(error)), ("code", "5"), ("message", FuzzJSONWriter.quoted(message)),
            ])
            expected = error
        case 1:
            // Later gateways.
            body = writer.object([("code", "5"), ("message", FuzzJSONWriter.quoted(message)), ("details", "[]")])
            expected = message
        default:
            // Not the gateway: a proxy's page, say.
            body = "<html>" + message + "</html>"
            expected = String(decoding: Data(body.utf8).prefix(200), as: UTF8.self)
        }
        let decoded = EtcdGatewayDecoder.failure(status: status, body: Data(body.utf8))
        // `revoke` and the participants tell a lease that is already gone from a real failure by
        // the typed case.
        let wanted: CoordinationError =
            expected.contains("requested lease not found") ? .leaseNotFound : .failure("etcd: \(status): \(expected)")
        guard decoded == wanted else {
            return "failure \(status) \(body) decoded to \(decoded), expected \(wanted)"
        }
        return nil
    }

    // MARK: Arbitrary answers

    static func arbitrary(_ answer: Answer, _ body: Data) -> String? {
        switch answer {
        case .range:
            guard let page = try? EtcdGatewayDecoder.rangePage(body) else { return nil }
            let (snapshot, more) = (page.snapshot, page.more)
            if let broken = brokenPromise(snapshot) { return "range \(body.debugText): \(broken)" }
            let written = rangeJSON(
                revision: snapshot.revision, snapshot.values.map(EtcdResponseModel.KeyValue.init), more: more,
                EtcdGatewayWriter())
            let again = try? EtcdGatewayDecoder.rangePage(Data(written.utf8))
            return again?.snapshot.values == snapshot.values && again?.snapshot.revision == snapshot.revision
                && again?.more == more
                ? nil
                : "range \(body.debugText) decoded to \(snapshot.values), written back as \(written) it decoded to \(String(describing: again?.snapshot.values))"
        case .txn:
            _ = try? EtcdGatewayDecoder.outcome(txn: body)
        case .leaseGrant:
            guard let lease = try? EtcdGatewayDecoder.grantedLease(body) else { return nil }
            if lease.id.rawValue == 0 || lease.ttl < .seconds(1)
                || lease.ttl > .seconds(EtcdGatewayDecoder.maximumLeaseTTL)
            {
                return "lease grant \(body.debugText) decoded to \(lease)"
            }
        case .keepAlive:
            _ = try? EtcdGatewayDecoder.isAlive(keepAlive: body)
        case .revoke:
            _ = try? EtcdGatewayDecoder.acknowledgement(body, of: "lease revoke")
        case .watch:
            return arbitraryWatch(body)
        case .failure:
            let failure = EtcdGatewayDecoder.failure(status: 500, body: body)
            switch failure {
            // A message naming the missing lease (`builtFailure` checks that only such a one is).
            case .leaseNotFound:
                break
            // Compared as bytes: a body starting with a combining mark joins the space before it.
            case .failure(let message) where message.utf8.starts(with: "etcd: 500: ".utf8):
                break
            default:
                return "failure body \(body.debugText) gave \(failure)"
            }
        }
        return nil
    }

    static func arbitraryWatch(_ body: Data) -> String? {
        var whole = EtcdWatchLineSplitter()
        var cut = EtcdWatchLineSplitter()
        guard let lines = try? whole.lines(appending: body) else { return "a short body overflowed the line limit" }
        var pieces: [Data] = []
        var start = body.startIndex
        var size = 1
        while start < body.endIndex {
            let end = min(start + size, body.endIndex)
            guard let more = try? cut.lines(appending: body[start..<end]) else {
                return "a short body overflowed the line limit"
            }
            pieces += more
            start = end
            size = size % 13 + 1
        }
        if pieces != lines {
            return "watch body \(body.debugText) split into \(pieces.count) lines in chunks, \(lines.count) whole"
        }
        for line in lines {
            if line.isEmpty || line.contains(UInt8(ascii: "\n")) {
                return "the splitter returned the line \(line.debugText)"
            }
            guard let changes = try? EtcdGatewayDecoder.changes(watchLine: line) else { continue }
            for (index, change) in changes.enumerated() {
                if let broken = brokenPromise(change) { return "watch line \(line.debugText): \(broken)" }
                if index > 0, change.revision < changes[index - 1].revision {
                    return "watch line \(line.debugText) decoded to changes out of revision order: \(changes)"
                }
            }
            let written = watchJSON(changes)
            let again = try? EtcdGatewayDecoder.changes(watchLine: Data(written.utf8))
            if again != changes {
                return
                    "watch line \(line.debugText) decoded to \(changes), written back as \(written) it decoded to \(String(describing: again))"
            }
        }
        return nil
    }

    // MARK: Shared

    /// Feeds a watch body to the same splitter and decoder the store runs, in chunks the input
    /// sizes, as the store's loop does: non-empty batches in order, up to the first error.
    static func readWatch(_ body: Data, chunks bytes: inout FuzzByteReader) -> (
        batches: [[StoreChange]], failure: CoordinationError?
    ) {
        var splitter = EtcdWatchLineSplitter()
        var batches: [[StoreChange]] = []
        var start = body.startIndex
        while start < body.endIndex {
            let end = bytes.isAtEnd ? body.endIndex : min(start + 1 + bytes.byte() % 64, body.endIndex)
            do {
                for line in try splitter.lines(appending: body[start..<end]) {
                    let changes = try EtcdGatewayDecoder.changes(watchLine: line)
                    if !changes.isEmpty { batches.append(changes) }
                }
            } catch {
                return (batches, error)
            }
            start = end
        }
        return (batches, nil)
    }

    /// What the decoder promises of every value it returns.
    static func brokenPromise(_ snapshot: StoreSnapshot) -> String? {
        if snapshot.revision < 1 || snapshot.revision == .max { return "snapshot revision \(snapshot.revision)" }
        for value in snapshot.values {
            if let broken = brokenPromise(.put(value)) { return broken }
            if value.modRevision > snapshot.revision {
                return "\(value) is newer than the snapshot's revision \(snapshot.revision)"
            }
        }
        return nil
    }

    static func brokenPromise(_ change: StoreChange) -> String? {
        switch change {
        case .put(let value):
            if value.key.isEmpty || value.createRevision < 1 || value.modRevision < value.createRevision
                || value.modRevision == .max
            {
                return "decoded the impossible value \(value)"
            }
            if value.lease?.rawValue == 0 { return "decoded lease 0 instead of none in \(value)" }
        case .delete(let key, let revision):
            if key.isEmpty || revision < 1 || revision == .max {
                return "decoded the impossible delete of \(key.debugDescription) at \(revision)"
            }
        }
        return nil
    }

    static func rangeJSON(
        revision: Int64, _ kvs: [EtcdResponseModel.KeyValue], more: Bool, _ writer: EtcdGatewayWriter
    ) -> String {
        var fields: [FuzzJSONWriter.Field] = [
            ("header", writer.header(revision: revision)), ("kvs", writer.array(kvs.map(writer.keyValue))),
            ("more", writer.bool(more)),
        ]
        if writer.extras { fields.append(("count", writer.int64(Int64(kvs.count)))) }
        return writer.object(fields)
    }

    /// Changes written back as one watch line, in the gateway's own style.
    static func watchJSON(_ changes: [StoreChange]) -> String {
        let writer = EtcdGatewayWriter()
        let events = changes.map { change in
            switch change {
            case .put(let value):
                return writer.object([("kv", writer.keyValue(EtcdResponseModel.KeyValue(value)))])
            case .delete(let key, let revision):
                let kv = EtcdResponseModel.KeyValue(
                    key: Array(key.utf8), value: [], createRevision: 0, modRevision: revision, lease: 0)
                return writer.object([("type", "\"DELETE\""), ("kv", writer.keyValue(kv))])
            }
        }
        return writer.object([("result", writer.object([("events", writer.array(events))]))])
    }
}

extension Data {
    /// The bytes as text for a failure report, invalid UTF-8 replaced.
    fileprivate var debugText: String { String(decoding: prefix(512), as: UTF8.self).debugDescription }
}
