/// The etcd v3 JSON gateway's response bodies as they arrive (proto3's JSON mapping): keys and
/// values are base64, 64-bit integers are strings, enums are names, and fields at their default
/// value are omitted — so every field is optional and a missing one means zero, false or empty.
///
/// Only the fields the store reads are declared; the decoder ignores the rest. The names are
/// the protobuf field names the gateway emits, which is why they are not camel case.
enum EtcdGatewayResponse {
    /// A proto3 64-bit integer: a decimal string as the gateway writes it, or a JSON number,
    /// which the mapping also allows.
    struct Int64Value: Decodable {
        var value: Int64

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                guard let value = Int64(text) else {
                    throw DecodingError.dataCorruptedError(
                        in: container, debugDescription: "\(text.debugDescription) is not a 64-bit integer")
                }
                self.value = value
            } else {
                value = try container.decode(Int64.self)
            }
        }
    }

    struct Header: Decodable {
        var revision: Int64Value?
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    // The property names are the gateway's JSON keys.
    struct KeyValue: Decodable {
        var key: String?
        var value: String?
        var create_revision: Int64Value?
        var mod_revision: Int64Value?
        var lease: Int64Value?
    }

    struct Range: Decodable {
        var header: Header?
        var kvs: [KeyValue]?
        var more: Bool?
    }

    /// An answer whose fields the store does not need: only that it is a JSON object matters
    /// (a synthesized decoder with no fields would take any JSON value, even a proxy's `null`).
    struct Empty: Decodable {
        private struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            _ = try decoder.container(keyedBy: AnyKey.self)
        }
    }

    struct Txn: Decodable {
        var header: Header?
        var succeeded: Bool?
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    // The property names are the gateway's JSON keys.
    struct LeaseGrant: Decodable {
        var ID: Int64Value?
        var TTL: Int64Value?
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    // The property names are the gateway's JSON keys.
    struct LeaseKeepAlive: Decodable {
        struct Result: Decodable {
            var TTL: Int64Value?
        }

        var result: Result?
    }

    /// A failed call's body, or a watch stream's error: etcd 3.4's gateway fills `error` and
    /// `message`, later ones only `message`.
    struct Failure: Decodable {
        var error: String?
        var message: String?
    }

    /// One line of a watch stream.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    // The property names are the gateway's JSON keys.
    struct Watch: Decodable {
        struct Result: Decodable {
            var canceled: Bool?
            var compact_revision: Int64Value?
            var cancel_reason: String?
            var events: [Event]?
        }

        struct Event: Decodable {
            /// `PUT` (omitted, as the enum's default) or `DELETE`.
            var type: String?
            var kv: KeyValue?
        }

        var result: Result?
        var error: Failure?
    }
}
