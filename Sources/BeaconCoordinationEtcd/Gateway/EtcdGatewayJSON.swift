import BeaconCoordination
import Foundation

/// The etcd v3 JSON gateway's encoding (proto3's JSON mapping) for the requests the store sends:
/// keys and values are base64, 64-bit integers are strings, enums are names. The answers are
/// read by ``EtcdGatewayDecoder``.
///
/// Foundation only, like the decoder: the HTTP client that carries these bodies is the `Etcd`
/// trait's business.
enum EtcdGatewayJSON {
    static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }

    /// The first key after `key` (etcd orders keys by their bytes): `key` and a zero byte.
    static func keyAfter(_ key: Data) -> String {
        (key + [0]).base64EncodedString()
    }

    /// The first key of a prefix's range, base64: the prefix, or "\0" for the empty prefix
    /// (etcd refuses an empty key).
    static func rangeStart(ofPrefix prefix: String) -> String {
        prefix.isEmpty ? Data([0]).base64EncodedString() : base64(prefix)
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
}
