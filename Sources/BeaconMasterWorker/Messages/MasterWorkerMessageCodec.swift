public import Foundation

/// TiFlow's JSON encoding of the protocol's messages, for a ``MessageTransport`` that carries
/// bytes between processes: the field names are TiFlow's (`send-time`, `from-worker-id`,
/// `epoch`, `worker-epoch`, `is-finished`, …), instants are nanosecond counts, epochs and states
/// are integers.
///
/// Decoding is where a peer's bytes become typed values, so it checks what the types promise:
/// every field present and of its type, identifiers non-empty, at most 256 UTF-8 bytes and free
/// of control characters, states among the six TiFlow defines. It never traps; anything else is
/// ``MasterWorkerError/invalidMessage(_:)``. Fields it does not know are ignored, as TiFlow's
/// decoder does. Whether a well-formed message is *current* (its epochs, its worker) is the
/// receiver's decision: ``WorkerManager`` for pings and statuses, ``WorkerSession`` for pongs
/// and status-change requests.
///
/// ```swift
/// let bytes = try MasterWorkerMessageCodec.encode(.ping(ping))
/// // … carried on the topic MasterWorkerTopic.ping(master:) …
/// let message = try MasterWorkerMessageCodec.decode(.ping, from: bytes)
/// ```
public enum MasterWorkerMessageCodec {
    /// The message's JSON, with its keys sorted so equal messages give equal bytes.
    public static func encode(_ message: MasterWorkerMessage) throws(MasterWorkerError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do {
            switch message {
            case .ping(let ping): return try encoder.encode(ping)
            case .pong(let pong): return try encoder.encode(pong)
            case .status(let status): return try encoder.encode(status)
            case .statusChange(let request): return try encoder.encode(request)
            }
        } catch {
            throw .invalidMessage("\(message.kind) could not be encoded: \(error)")
        }
    }

    /// Reads a message of the kind its topic announced.
    ///
    /// - Throws: ``MasterWorkerError/invalidMessage(_:)`` for bytes that are not such a message.
    public static func decode(_ kind: MasterWorkerMessage.Kind, from json: Data) throws(MasterWorkerError)
        -> MasterWorkerMessage
    {
        let decoder = JSONDecoder()
        do {
            switch kind {
            case .ping: return .ping(try decoder.decode(HeartbeatPing.self, from: json))
            case .pong: return .pong(try decoder.decode(HeartbeatPong.self, from: json))
            case .status: return .status(try decoder.decode(WorkerStatusMessage.self, from: json))
            case .statusChange: return .statusChange(try decoder.decode(StatusChangeRequest.self, from: json))
            }
        } catch let error as MasterWorkerError {
            throw .invalidMessage("\(kind): \(error)")
        } catch {
            throw .invalidMessage("\(kind): \(Self.describe(error))")
        }
    }

    /// A decoding error as one line: what was wrong, and at which field.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, _): return "field \(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "field \(path): ") + context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}
