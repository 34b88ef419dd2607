import BeaconCoordination
import BeaconCore

/// The gateway answers `EtcdResponseFuzz` builds from its input, and what the decoder must make
/// of each: the values it carries, or a refusal where it breaks one of the rules
/// ``EtcdGatewayDecoder`` promises. The rules are restated here, plainly, so that a decoder
/// that drifts from them disagrees with the model.
///
/// Not for use outside the fuzz harness and its tests.
enum EtcdResponseModel {
    /// A key-value pair as the gateway sends it (zero and empty mean omitted).
    struct KeyValue {
        var key: [UInt8]
        var value: [UInt8]
        var createRevision: Int64
        var modRevision: Int64
        var lease: Int64

        init(key: [UInt8], value: [UInt8], createRevision: Int64, modRevision: Int64, lease: Int64) {
            self.key = key
            self.value = value
            self.createRevision = createRevision
            self.modRevision = modRevision
            self.lease = lease
        }

        /// A decoded value, to be written back.
        init(_ stored: StoredValue) {
            self.init(
                key: Array(stored.key.utf8), value: Array(stored.value.utf8), createRevision: stored.createRevision,
                modRevision: stored.modRevision, lease: stored.lease?.rawValue ?? 0)
        }

        /// A pair modified at or a little before `revision` (or anywhere, for a few bytes), and
        /// created a little before that, at it, or impossibly after it.
        init(reading bytes: inout FuzzByteReader, near revision: Int64) {
            key = EtcdResponseModel.key(&bytes)
            value = bytes.lengthPrefixedBytes(limit: 24)
            let modified = bytes.byte()
            modRevision = modified < 0xF0 ? revision &- Int64(modified % 4) : EtcdResponseModel.revision(modified)
            let created = bytes.byte()
            createRevision =
                switch created % 5 {
                case 3: 0
                case 4: modRevision &+ 1
                default: modRevision &- Int64(created % 5)
                }
            lease = [0, 0, 0x694d_7d5a_5a0c_1234, -1, 7, .max][bytes.byte() % 6]
        }

        var decodedKey: String { String(decoding: key, as: UTF8.self) }

        /// What a range or put event must decode to: nil where the decoder must refuse it.
        var expectedValue: StoredValue? {
            guard !decodedKey.isEmpty, createRevision >= 1, modRevision >= createRevision, modRevision < .max else {
                return nil
            }
            return StoredValue(
                key: decodedKey, value: String(decoding: value, as: UTF8.self), createRevision: createRevision,
                modRevision: modRevision, lease: lease == 0 ? nil : LeaseID(lease))
        }

        /// What a delete event must decode to: nil where the decoder must refuse it.
        var expectedDelete: StoreChange? {
            guard !decodedKey.isEmpty, modRevision >= 1, modRevision < .max else { return nil }
            return .delete(key: decodedKey, revision: modRevision)
        }
    }

    /// One line of a watch stream.
    enum WatchMessage {
        /// The first message, or a progress notification: no events.
        case quiet(revision: Int64)
        case events([Event], revision: Int64)
        case canceled(compactRevision: Int64, reason: String)
        case error(String)

        init(reading bytes: inout FuzzByteReader, after revision: inout Int64) {
            switch bytes.byte() % 8 {
            case 0, 1:
                self = .quiet(revision: revision)
            case 2:
                self = .canceled(
                    compactRevision: EtcdResponseModel.revision(bytes.byte()), reason: EtcdResponseModel.text(&bytes))
            case 3:
                self = .error(EtcdResponseModel.text(&bytes))
            default:
                var events: [Event] = []
                for _ in 0..<bytes.byte() % 7 {
                    let step = bytes.byte()
                    revision = step < 0xF0 ? revision &+ Int64(step % 3) : EtcdResponseModel.revision(step)
                    events.append(Event(reading: &bytes, at: revision))
                }
                self = .events(events, revision: revision)
            }
        }

        /// The changes the line must decode to, or nil where the decoder must refuse it.
        var expectedChanges: [StoreChange]? {
            guard case .events(let events, _) = self else {
                if case .quiet = self { return [] }
                return nil
            }
            var changes: [StoreChange] = []
            for event in events {
                guard let kv = event.kv else { return nil }
                let change: StoreChange?
                switch event.type {
                case nil, "PUT": change = kv.expectedValue.map(StoreChange.put)
                case "DELETE": change = kv.expectedDelete
                default: change = nil
                }
                guard let change, change.revision >= changes.last?.revision ?? .min else { return nil }
                changes.append(change)
            }
            return changes
        }

        func json(_ writer: EtcdGatewayWriter) -> String {
            switch self {
            case .quiet(let revision):
                return writer.object([
                    (
                        "result",
                        writer.object([("header", writer.header(revision: revision)), ("created", writer.bool(true))])
                    )
                ])
            case .events(let events, let revision):
                let written = events.map { event in
                    writer.object([
                        ("type", event.type.map(FuzzJSONWriter.quoted)), ("kv", event.kv.map(writer.keyValue)),
                    ])
                }
                return writer.object([
                    (
                        "result",
                        writer.object([
                            ("header", writer.header(revision: revision)), ("events", writer.array(written)),
                        ])
                    )
                ])
            case .canceled(let compactRevision, let reason):
                return writer.object([
                    (
                        "result",
                        writer.object([
                            ("canceled", "true"), ("compact_revision", writer.int64(compactRevision)),
                            ("cancel_reason", writer.string(reason)),
                        ])
                    )
                ])
            case .error(let message):
                return writer.object([
                    (
                        "error",
                        writer.object([
                            ("grpc_code", "14"), ("http_code", "503"), ("message", FuzzJSONWriter.quoted(message)),
                            ("http_status", "\"Service Unavailable\""),
                        ])
                    )
                ])
            }
        }
    }

    struct Event {
        /// nil: omitted, which proto3 means as `PUT`.
        var type: String?
        var kv: KeyValue?

        init(reading bytes: inout FuzzByteReader, at revision: Int64) {
            let shape = bytes.byte()
            type = [nil, "PUT", "DELETE", "DELETE", "EXPIRE", nil][shape % 6]
            var kv = KeyValue(reading: &bytes, near: revision)
            kv.modRevision = revision
            if type == "DELETE" {
                kv.createRevision = 0
                kv.value = []
                kv.lease = 0
            }
            self.kv = shape % 6 == 5 ? nil : kv
        }
    }

    /// A revision: usually small, so that the rules' boundaries (0, 1, equal revisions) are hit.
    static func revision(_ byte: Int) -> Int64 {
        byte < 0xF0 ? Int64(byte % 12) - 1 : [.max, .min, 1 << 32, 1 << 53 + 1, -2, 100, 1_000_000, 17][byte % 8]
    }

    /// Keys like a scheduling group's, the empty key, or any bytes (which need not be UTF-8).
    static func key(_ bytes: inout FuzzByteReader) -> [UInt8] {
        let pick = bytes.byte()
        let known = ["/beacon/g/exchange/a", "/beacon/g/election/694d7d5a5a0c1234", "/beacon/g/scheduled", ""]
        return pick < 0xC0 ? Array(known[pick % known.count].utf8) : bytes.lengthPrefixedBytes(limit: 24)
    }

    /// An error text: etcd's usual ones, or any bytes read as UTF-8.
    static func text(_ bytes: inout FuzzByteReader) -> String {
        let pick = bytes.byte()
        let known = [
            "etcdserver: requested lease not found", "etcdserver: mvcc: required revision has been compacted",
            "etcdserver: request timed out", "",
        ]
        return pick < 0xC0
            ? known[pick % known.count] : String(decoding: bytes.lengthPrefixedBytes(limit: 48), as: UTF8.self)
    }
}
