/// What a session id's text form must be, written apart from ``SessionID``'s parser so the
/// request fuzzer can hold one against the other: exactly 32 lowercase hex digits, the first 16
/// the wheel handle (slot index in the upper half, generation below 2^30 in the lower) and the
/// last 16 a nonzero secret. Anything else is refused, as an unknown session would be.
enum SessionTextModel {
    struct Parts: Equatable {
        var index: UInt32
        var generation: UInt32
        var secret: UInt64
    }

    static let digits = Array("0123456789abcdef".utf8)

    static func parse(_ text: String) -> Parts? {
        var handle: UInt64 = 0
        var secret: UInt64 = 0
        var count = 0
        for byte in text.utf8 {
            guard count < 32, let digit = digits.firstIndex(of: byte) else { return nil }
            if count < 16 {
                handle = handle << 4 | UInt64(digit)
            } else {
                secret = secret << 4 | UInt64(digit)
            }
            count += 1
        }
        guard count == 32 else { return nil }
        let parts = Parts(index: UInt32(handle >> 32), generation: UInt32(handle & 0xFFFF_FFFF), secret: secret)
        guard parts.secret != 0, parts.generation < 1 << 30 else { return nil }
        return parts
    }

    static func parts(of session: SessionID) -> Parts {
        Parts(index: session.handle.index, generation: session.handle.generation, secret: session.secret)
    }

    /// The text of `parts`: each field in fixed-width lowercase hex.
    static func text(of parts: Parts) -> String {
        hex(UInt64(parts.index), width: 8) + hex(UInt64(parts.generation), width: 8) + hex(parts.secret, width: 16)
    }

    private static func hex(_ value: UInt64, width: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: width)
        var rest = value
        for position in stride(from: width - 1, through: 0, by: -1) {
            bytes[position] = digits[Int(rest & 0xF)]
            rest >>= 4
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` with the digit at `position` replaced by another one (`choice` picks which).
    static func mutating(_ text: String, at position: Int, choice: Int) -> String {
        var bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return text }
        let position = position % bytes.count
        let old = digits.firstIndex(of: bytes[position]) ?? 0
        bytes[position] = digits[(old + 1 + choice % 15) % 16]
        return String(decoding: bytes, as: UTF8.self)
    }
}
