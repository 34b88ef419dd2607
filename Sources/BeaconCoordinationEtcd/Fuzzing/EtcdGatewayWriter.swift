import BeaconCore
import Foundation

/// Writes JSON the way the etcd gateway does, or in one of the other ways proto3's JSON mapping
/// allows, for `EtcdResponseFuzz`: the model's answers are written with it, and so are the
/// decoder's results when they are written back for the round trip.
///
/// Not for use outside the fuzz harness and its tests.
struct EtcdGatewayWriter {
    var json = FuzzJSONWriter()
    /// 64-bit integers as JSON numbers instead of strings.
    var numbers = false
    /// Fields at their default value written out instead of omitted.
    var explicitDefaults = false
    /// Fields the decoder does not read, as a real gateway sends them.
    var extras = false

    /// The gateway's own style: strings, defaults omitted, compact.
    init() {}

    /// A style from one input byte.
    init(style byte: Int) {
        numbers = byte & 1 != 0
        explicitDefaults = byte & 2 != 0
        json = FuzzJSONWriter(spaced: byte & 4 != 0, reversed: byte & 8 != 0)
        extras = byte & 16 != 0
    }

    func object(_ fields: [FuzzJSONWriter.Field]) -> String { json.object(fields) }

    func array(_ elements: [String]) -> String? {
        explicitDefaults || !elements.isEmpty ? json.array(elements) : nil
    }

    func int64(_ value: Int64) -> String? {
        guard explicitDefaults || value != 0 else { return nil }
        return numbers ? String(value) : "\"\(value)\""
    }

    func bool(_ value: Bool) -> String? {
        explicitDefaults || value ? String(value) : nil
    }

    func bytes(_ value: [UInt8]) -> String? {
        explicitDefaults || !value.isEmpty ? "\"\(Data(value).base64EncodedString())\"" : nil
    }

    func string(_ value: String) -> String? {
        explicitDefaults || !value.isEmpty ? FuzzJSONWriter.quoted(value) : nil
    }

    /// The header every gateway answer carries; omitted when it would be empty.
    func header(revision: Int64) -> String? {
        let extra: [FuzzJSONWriter.Field] =
            extras
            ? [
                ("cluster_id", "\"14841639068965178418\""), ("member_id", "\"10276657743932975437\""),
                ("raft_term", "\"2\""),
            ]
            : []
        let fields = extra + [("revision", int64(revision))]
        return fields.contains(where: { $0.json != nil }) ? object(fields) : nil
    }

    func keyValue(_ kv: EtcdResponseModel.KeyValue) -> String {
        var fields: [FuzzJSONWriter.Field] = [
            ("key", bytes(kv.key)), ("create_revision", int64(kv.createRevision)),
            ("mod_revision", int64(kv.modRevision)),
        ]
        if extras { fields.append(("version", int64(1))) }
        fields += [("value", bytes(kv.value)), ("lease", int64(kv.lease))]
        return object(fields)
    }
}
