#if Etcd
import BeaconScheduler
import Foundation

/// The etcd v3 JSON gateway's encoding (proto3's JSON mapping): keys and values are base64,
/// 64-bit integers are strings, enums are names, and fields at their default value are omitted
/// — so every decoded field is optional and a missing one means zero, false or empty.
enum EtcdGatewayJSON {
    static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }

    static func text(base64 encoded: String?) throws(SchedulerError) -> String {
        guard let encoded else { return "" }
        guard let data = Data(base64Encoded: encoded) else { throw .backendFailure("etcd: bad base64 in a response") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The smallest key after every key starting with `prefix` (etcd's prefix range end).
    static func rangeEnd(ofPrefix prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes).base64EncodedString()
            }
            bytes.removeLast()
        }
        // A prefix of only 0xFF bytes (or empty) ranges to the end of the keyspace: "\0".
        return Data([0]).base64EncodedString()
    }

    static func int64(_ value: String?) -> Int64 {
        value.flatMap { Int64($0) } ?? 0
    }

    static func condition(_ condition: StoreCondition) -> [String: Any] {
        switch condition {
        case .createRevision(let key, let revision):
            ["key": base64(key), "target": "CREATE", "result": "EQUAL", "create_revision": String(revision)]
        case .modRevision(let key, let revision):
            ["key": base64(key), "target": "MOD", "result": "EQUAL", "mod_revision": String(revision)]
        case .value(let key, let value):
            ["key": base64(key), "target": "VALUE", "result": "EQUAL", "value": base64(value)]
        case .lease(let key, let lease):
            ["key": base64(key), "target": "LEASE", "result": "EQUAL", "lease": String(lease.rawValue)]
        }
    }

    static func operation(_ operation: StoreOperation) -> [String: Any] {
        switch operation {
        case .put(let key, let value, let lease):
            var put: [String: Any] = ["key": base64(key), "value": base64(value)]
            if let lease { put["lease"] = String(lease.rawValue) }
            return ["request_put": put]
        case .delete(let key):
            return ["request_delete_range": ["key": base64(key)]]
        }
    }

    struct Header: Decodable {
        var revision: String?
    }

    struct KeyValue: Decodable {
        var key: String?
        var value: String?
        var create_revision: String?
        var mod_revision: String?
        var lease: String?

        func stored() throws(SchedulerError) -> StoredValue {
            let lease = EtcdGatewayJSON.int64(lease)
            return StoredValue(
                key: try EtcdGatewayJSON.text(base64: key), value: try EtcdGatewayJSON.text(base64: value),
                createRevision: EtcdGatewayJSON.int64(create_revision), modRevision: EtcdGatewayJSON.int64(mod_revision),
                lease: lease == 0 ? nil : LeaseID(lease))
        }
    }

    struct RangeResponse: Decodable {
        var header: Header?
        var kvs: [KeyValue]?
    }

    /// A response whose fields the caller does not need (only its status matters).
    struct EmptyResponse: Decodable {}

    struct TxnResponse: Decodable {
        var succeeded: Bool?
    }

    struct LeaseGrantResponse: Decodable {
        var ID: String?
        var TTL: String?
    }

    struct LeaseKeepAliveResponse: Decodable {
        struct Result: Decodable {
            var TTL: String?
        }

        var result: Result?
    }

    struct ErrorResponse: Decodable {
        var error: String?
        var message: String?
        var code: Int?
    }

    struct WatchResponse: Decodable {
        struct Result: Decodable {
            var header: Header?
            var created: Bool?
            var canceled: Bool?
            var compact_revision: String?
            var cancel_reason: String?
            var events: [Event]?
        }

        struct Event: Decodable {
            var type: String?
            var kv: KeyValue?
        }

        var result: Result?
        var error: ErrorResponse?
    }
}
#endif
