public import BeaconCore

/// The opaque token a node receives when it registers and presents on every later call.
///
/// It names the node's slot in the dispatcher's heartbeat wheel (so a heartbeat finds its node
/// without hashing a string) and carries 64 random bits drawn from the system's secure generator,
/// so a session cannot be guessed or forged from another node's. Its text form is 32 hex digits.
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    /// The node's registration in the heartbeat wheel.
    public let handle: HeartbeatHandle
    /// The random part; never 0 (0 marks a slot with no valid session).
    public let secret: UInt64

    package init(handle: HeartbeatHandle, secret: UInt64) {
        self.handle = handle
        self.secret = secret
    }

    /// Parses the text form; throws ``DispatcherError/sessionInvalid`` for anything else, as an
    /// unknown session would.
    public init(_ text: String) throws(DispatcherError) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 32, let high = SessionID.hex(utf8[0..<16]), let low = SessionID.hex(utf8[16..<32]) else {
            throw .sessionInvalid
        }
        handle = SessionID.handle(ofWord: high)
        guard low != 0, handle.generation < 1 << 30 else { throw .sessionInvalid }
        secret = low
    }

    public var description: String {
        SessionID.hexString(SessionID.word(of: handle)) + SessionID.hexString(secret)
    }

    /// A handle as a session id's first 64 bits carry it, in its text form and in heartbeat
    /// datagrams: the index above the generation.
    @inline(__always)
    static func word(of handle: HeartbeatHandle) -> UInt64 {
        UInt64(handle.index) << 32 | UInt64(handle.generation)
    }

    @inline(__always)
    static func handle(ofWord word: UInt64) -> HeartbeatHandle {
        HeartbeatHandle(index: UInt32(truncatingIfNeeded: word >> 32), generation: UInt32(truncatingIfNeeded: word))
    }

    private static func hexString(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for byte in bytes {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}
