import BeaconCoordination
import Foundation

/// Turns the etcd JSON gateway's answers into the coordination store's values, refusing an
/// answer that breaks what the scheduler builds on, with `CoordinationError/failure(_:)`
/// (the participant then reads and watches again) rather than passing it on:
///
/// - a snapshot's revision is at least 1 and no older than any of its values: the watch that
///   follows resumes after it and a group view ignores changes at or below it, so an earlier
///   revision would replay history over newer values;
/// - a stored value has a key, a create revision of at least 1 (the election orders candidates
///   by it) and a mod revision no older than that (transactions compare it, and 0 means absent);
/// - a watch event is a `PUT` or a `DELETE`, carries its key and revision, and the events of one
///   message come in revision order; an event is never skipped, since the view would then miss
///   a change for good;
/// - a granted lease has an ID and a TTL between 1 s and etcd's maximum (it is refreshed every
///   third of it, so 0 would refresh in a tight loop).
///
/// Foundation only, so it is built — and fuzzed by `EtcdResponseFuzz` — without the `Etcd` trait
/// that brings the HTTP client.
enum EtcdGatewayDecoder {
    /// etcd's longest lease (`MaxLeaseTTL`, in seconds).
    static let maximumLeaseTTL: Int64 = 9_000_000_000
    /// The revisions an answer may carry: from 1, and below `Int64.max`, since a watch resumes
    /// after the revision it last saw and one past `Int64.max` does not exist.
    static let validRevisions: Range<Int64> = 1..<Int64.max

    /// One page of the answer to `/v3/kv/range`: its values, the revision it was read at,
    /// whether the range holds more keys than the request's limit let through (`more`), and its
    /// first and last keys as the bytes etcd sent (a key that is not UTF-8 reads as text with
    /// replacement characters, which would not say where the next page starts).
    static func rangePage(_ body: Data) throws(CoordinationError) -> EtcdRangePage {
        let response = try decode(EtcdGatewayResponse.Range.self, body, "range")
        let revision = response.header?.revision?.value ?? 0
        guard validRevisions.contains(revision) else {
            throw .failure("etcd: range: the answer has revision \(revision)")
        }
        var values: [StoredValue] = []
        for kv in response.kvs ?? [] {
            let value = try storedValue(kv, in: "range")
            guard value.modRevision <= revision else {
                throw .failure(
                    "etcd: range: \(value.key.debugDescription) was modified at \(value.modRevision), after the answer's revision \(revision)"
                )
            }
            values.append(value)
        }
        let more = response.more ?? false
        guard !more || !values.isEmpty else {
            throw .failure("etcd: range: the answer has more keys to come but holds none")
        }
        // Decoded by `storedValue` above, so both are base64.
        let rawKey = { (kv: EtcdGatewayResponse.KeyValue?) in kv?.key.flatMap { Data(base64Encoded: $0) } }
        return EtcdRangePage(
            snapshot: StoreSnapshot(values: values, revision: revision), more: more,
            firstKey: rawKey(response.kvs?.first), lastKey: rawKey(response.kvs?.last))
    }

    /// Whether the conditions of a `/v3/kv/txn` held, and the revision the answer was made at
    /// (the writes' revision when the transaction wrote).
    static func outcome(txn body: Data) throws(CoordinationError) -> TransactionOutcome {
        let response = try decode(EtcdGatewayResponse.Txn.self, body, "txn")
        let revision = response.header?.revision?.value ?? 0
        guard validRevisions.contains(revision) else {
            throw .failure("etcd: txn: the answer has revision \(revision)")
        }
        return TransactionOutcome(succeeded: response.succeeded ?? false, revision: revision)
    }

    /// The answer to `/v3/lease/grant`.
    static func grantedLease(_ body: Data) throws(CoordinationError) -> GrantedLease {
        let response = try decode(EtcdGatewayResponse.LeaseGrant.self, body, "lease grant")
        let id = response.ID?.value ?? 0
        guard id != 0 else { throw .failure("etcd: lease grant returned no id") }
        let ttl = response.TTL?.value ?? 0
        guard (1...maximumLeaseTTL).contains(ttl) else {
            throw .failure("etcd: lease grant returned a TTL of \(ttl) s")
        }
        return GrantedLease(id: LeaseID(id), ttl: .seconds(ttl))
    }

    /// Whether `/v3/lease/keepalive` found the lease alive: an expired or unknown lease answers
    /// without a TTL.
    static func isAlive(keepAlive body: Data) throws(CoordinationError) -> Bool {
        let response = try decode(EtcdGatewayResponse.LeaseKeepAlive.self, body, "lease keepalive")
        return (response.result?.TTL?.value ?? 0) > 0
    }

    /// Checks an answer whose content the store does not need (`/v3/lease/revoke`).
    static func acknowledgement(_ body: Data, of call: String) throws(CoordinationError) {
        _ = try decode(EtcdGatewayResponse.Empty.self, body, call)
    }

    /// The changes one line of a `/v3/watch` stream reports: none for the creation message and
    /// progress notifications.
    ///
    /// - Throws: `CoordinationError/failure(_:)` when the line reports an error or the
    ///   watch's cancellation (with the compaction revision when that is why), or breaks a rule.
    static func changes(watchLine line: Data) throws(CoordinationError) -> [StoreChange] {
        let message = try decode(EtcdGatewayResponse.Watch.self, line, "watch")
        if let error = message.error {
            throw .failure("etcd: watch: \(error.error ?? error.message ?? "unknown error")")
        }
        guard let result = message.result else { return [] }
        if result.canceled == true {
            if let compacted = result.compact_revision { throw .compacted(compactRevision: compacted.value) }
            throw .failure("etcd: watch: \(result.cancel_reason ?? "canceled")")
        }
        var changes: [StoreChange] = []
        for event in result.events ?? [] {
            guard let kv = event.kv else { throw .failure("etcd: watch: an event without its key") }
            let change: StoreChange
            switch event.type ?? "PUT" {
            case "PUT":
                change = .put(try storedValue(kv, in: "watch"))
            case "DELETE":
                let key = try text(base64: kv.key, "watch")
                let revision = kv.mod_revision?.value ?? 0
                guard !key.isEmpty, validRevisions.contains(revision) else {
                    throw .failure("etcd: watch: a delete of \(key.debugDescription) at revision \(revision)")
                }
                change = .delete(key: key, revision: revision)
            case let other:
                throw .failure("etcd: watch: an event of unknown type \(other.debugDescription)")
            }
            if let previous = changes.last?.revision, change.revision < previous {
                throw .failure("etcd: watch: an event at revision \(change.revision) after one at \(previous)")
            }
            changes.append(change)
        }
        return changes
    }

    /// The error for a call answered with an HTTP status other than 200: the gateway's message
    /// when the body has one, else the start of the body.
    static func failure(status: UInt, body: Data) -> CoordinationError {
        let message = message(body)
        if message.contains("requested lease not found") { return .leaseNotFound }
        return .failure("etcd: \(status): \(message)")
    }

    /// Whether a call answered with `status` and `body` may be sent again as it is: only etcd's
    /// "leader changed", which etcd reports when a linearizable read (a range, a read-only
    /// transaction, a lease's time to live) lost its read index to an election — the request
    /// was not served, so sending it again cannot apply anything twice. A write that meets an
    /// election fails with a timeout instead, and may have been applied: that one is the
    /// caller's to judge.
    static func isLeaderChange(status: UInt, body: Data) -> Bool {
        status == 503 && message(body) == "etcdserver: leader changed"
    }

    private static func message(_ body: Data) -> String {
        let decoded = try? JSONDecoder().decode(EtcdGatewayResponse.Failure.self, from: body)
        return decoded?.error ?? decoded?.message ?? String(decoding: body.prefix(200), as: UTF8.self)
    }

    /// A value a range or a put event carries.
    static func storedValue(_ kv: EtcdGatewayResponse.KeyValue, in call: String) throws(CoordinationError)
        -> StoredValue
    {
        let key = try text(base64: kv.key, call)
        let created = kv.create_revision?.value ?? 0
        let modified = kv.mod_revision?.value ?? 0
        guard !key.isEmpty, created >= 1, modified >= created, validRevisions.contains(modified) else {
            throw .failure(
                "etcd: \(call): \(key.debugDescription) has create revision \(created) and mod revision \(modified)")
        }
        let lease = kv.lease?.value ?? 0
        return StoredValue(
            key: key, value: try text(base64: kv.value, call), createRevision: created, modRevision: modified,
            lease: lease == 0 ? nil : LeaseID(lease))
    }

    /// Text the gateway sent as base64 (absent: empty). Bytes that are not UTF-8 are replaced,
    /// as the store only ever writes text.
    static func text(base64 encoded: String?, _ call: String) throws(CoordinationError) -> String {
        guard let encoded else { return "" }
        guard let data = Data(base64Encoded: encoded) else {
            throw .failure("etcd: \(call): bad base64 in the answer")
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func decode<Response: Decodable>(_ type: Response.Type, _ body: Data, _ call: String)
        throws(CoordinationError) -> Response
    {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw .failure("etcd: \(call): unreadable answer: \(error)")
        }
    }
}

/// One page of a range read (see ``EtcdGatewayDecoder/rangePage(_:)``).
struct EtcdRangePage {
    var snapshot: StoreSnapshot
    var more: Bool
    /// The page's first and last keys as etcd sent them; nil for an empty page.
    var firstKey: Data?
    var lastKey: Data?
}
