import BeaconCore
import Foundation

/// The `MasterWorkerMessageFuzz` libFuzzer target's logic: TiFlow's JSON messages through
/// ``MasterWorkerMessageCodec`` and on to the receiver that applies its rules on receipt.
///
/// The first byte picks the message kind (its low two bits: ping, pong, status, status-change
/// request), the receiving world (bits 4 and 5: a master recovering from a fail-over, a worker
/// that is leaving; see ``MasterWorkerReceiverModel``) and how the message is made (bits 2 and
/// 3):
///
/// - **Built** (not both set): the rest of the input fills a ``MasterWorkerMessageModel``,
///   written as TiFlow's JSON in either field order, with or without spaces. The codec must
///   return exactly the model's message, or refuse it exactly where the model breaks a rule.
/// - **Arbitrary** (both set): the rest is the JSON, as is. Nothing may trap, and a decoded
///   message must keep the codec's promise (a valid identifier).
///
/// Either way a decoded message must encode and decode to itself, and its receiver must treat
/// it as the model of the receiver's rules says: the master's epoch fences and worker phases,
/// the worker's pong and cancellation rules.
///
/// It lives in the library (with `package` access) so the unit tests replay the committed
/// inputs through the same code. Not for use outside Beacon's tests and fuzzers.
package enum MasterWorkerMessageFuzzHarness {
    /// Runs one input; returns a description of the first broken property, or `nil`.
    package static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var bytes = FuzzByteReader(input)
        let selector = bytes.byte()
        let kind = MasterWorkerMessage.Kind.allCases[selector & 3]
        let json: Data
        let decoded: MasterWorkerMessage?
        if selector & 0x0C == 0x0C {
            json = Data(bytes.rest())
            decoded = try? MasterWorkerMessageCodec.decode(kind, from: json)
            if let decoded, let broken = brokenPromise(decoded) {
                return "\(json.debugText) decoded to \(decoded): \(broken)"
            }
        } else {
            let writer = FuzzJSONWriter(spaced: selector & 4 != 0, reversed: selector & 8 != 0)
            let model = MasterWorkerMessageModel(kind, reading: &bytes)
            json = Data(model.json(writer).utf8)
            decoded = try? MasterWorkerMessageCodec.decode(kind, from: json)
            if decoded != model.expected {
                return
                    "\(json.debugText) decoded to \(decoded.map { "\($0)" } ?? "a refusal"), expected \(model.expected.map { "\($0)" } ?? "a refusal")"
            }
        }
        guard let decoded else { return nil }
        if decoded.kind != kind { return "a \(kind) decoded to a \(decoded.kind)" }
        if let broken = roundTrip(decoded) { return broken }
        do {
            var receiver = try MasterWorkerReceiverModel(scenario: selector >> 4)
            return receiver.deliver(decoded)
        } catch {
            return "the receiving world could not be built: \(error)"
        }
    }

    /// Encoded and decoded again, the message is unchanged.
    static func roundTrip(_ message: MasterWorkerMessage) -> String? {
        do {
            let json = try MasterWorkerMessageCodec.encode(message)
            let again = try MasterWorkerMessageCodec.decode(message.kind, from: json)
            return again == message ? nil : "\(message) encoded as \(json.debugText) decoded to \(again)"
        } catch {
            return "\(message) did not survive encoding and decoding: \(error)"
        }
    }

    /// What the codec promises of every message it returns: its identifier is valid (its state
    /// is one of the six by its type).
    static func brokenPromise(_ message: MasterWorkerMessage) -> String? {
        let identifier =
            switch message {
            case .ping(let ping): ping.fromWorker.rawValue
            case .pong(let pong): pong.toWorker.rawValue
            case .status(let status): status.worker.rawValue
            case .statusChange(let request): request.fromMaster.rawValue
            }
        return MasterWorkerMessageModel.isValidIdentifier(identifier)
            ? nil : "the invalid identifier \(identifier.debugDescription)"
    }
}

extension Data {
    /// The bytes as text for a failure report, invalid UTF-8 replaced.
    fileprivate var debugText: String { String(decoding: prefix(512), as: UTF8.self).debugDescription }
}
