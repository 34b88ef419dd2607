/// One assignment message: a header saying how it chains to the previous one, and the bytes that
/// go on the wire.
///
/// Messages come from ``AssignmentEncoder`` or ``AssignmentBatcher``, or from
/// ``init(decoding:maximumSize:)`` on the receiving side, which validates every byte before it
/// returns. A batch too large for the byte budget becomes several messages with consecutive
/// sequence numbers; every one but the last has ``isFinalPart`` false, and each is valid on its
/// own: its ``stateDigest`` is the digest of the set its receiver holds after applying it.
public struct AssignmentMessage: Sendable, Equatable, CustomStringConvertible {
    /// The largest message a decoder accepts unless told otherwise: the default byte budget.
    public static let defaultMaximumSize = AssignmentEncoder.defaultByteBudget

    public let kind: AssignmentMessageKind
    /// This message's sequence number; the next INCREMENTAL names it in `appliesTo`.
    public let resultsIn: UInt64
    /// The sequence number of the message whose result this one applies to.
    public let appliesTo: UInt64
    /// False when more parts of the same batch follow: the receiver's set is consistent with the
    /// sender's only after the final part, so act on it (start or stop tasks) only then.
    public let isFinalPart: Bool
    public let changeCount: Int
    /// The digest of the receiver's whole set after applying this message (see
    /// ``AssignmentSet/digest``).
    public let stateDigest: UInt64
    /// The encoded message.
    public let bytes: [UInt8]

    init(
        kind: AssignmentMessageKind, resultsIn: UInt64, appliesTo: UInt64, isFinalPart: Bool,
        changeCount: Int, stateDigest: UInt64, bytes: [UInt8]
    ) {
        self.kind = kind
        self.resultsIn = resultsIn
        self.appliesTo = appliesTo
        self.isFinalPart = isFinalPart
        self.changeCount = changeCount
        self.stateDigest = stateDigest
        self.bytes = bytes
    }

    /// Decodes and validates `bytes`: header fields, sequence numbers, every varint, strictly
    /// ascending keys, payload lengths, and that nothing follows the last change. Never traps and
    /// allocates nothing beyond keeping `bytes`.
    public init(decoding bytes: [UInt8], maximumSize: Int = defaultMaximumSize) throws(AssignmentDecodingError) {
        guard bytes.count <= maximumSize else { throw .oversized(bytes: bytes.count, limit: maximumSize) }
        let header = try bytes.withUnsafeBytes { raw in
            Result { () throws(AssignmentDecodingError) in try Self.validate(raw) }
        }.get()
        self.init(
            kind: header.kind, resultsIn: header.resultsIn, appliesTo: header.appliesTo,
            isFinalPart: !header.moreFollows, changeCount: header.changeCount,
            stateDigest: header.stateDigest, bytes: bytes)
    }

    /// Checks the header and walks every change; returns the header.
    private static func validate(_ raw: UnsafeRawBufferPointer) throws(AssignmentDecodingError) -> Header {
        let header = try Header(raw)
        var cursor = ChangeCursor(raw, kind: header.kind)
        for _ in 0..<header.changeCount { _ = try cursor.next() }
        guard cursor.offset == raw.count else { throw .trailingBytes(count: raw.count - cursor.offset) }
        return header
    }

    /// The changes as standalone values, in key order (payloads copied out).
    public var changes: [AssignmentChange] {
        var result: [AssignmentChange] = []
        result.reserveCapacity(changeCount)
        forEachChange { change, payload in
            let key = AssignmentKey(packed: change.key)
            result.append(
                change.isRemoval
                    ? .removal(key) : .upsert(Assignment(key: key, version: change.version, payload: Array(payload))))
        }
        return result
    }

    /// Walks the validated changes; `body` gets each change and its payload read in place.
    func forEachChange(_ body: (DecodedChange, UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBytes { raw in
            var cursor = ChangeCursor(raw, kind: kind)
            // Validated in `init`, so the cursor cannot fail here; stopping on an error would
            // only be reachable through memory corruption.
            while cursor.index < changeCount, let change = try? cursor.next() {
                body(
                    change,
                    UnsafeRawBufferPointer(
                        rebasing: raw[change.payloadStart..<change.payloadStart + change.payloadLength]))
            }
        }
    }

    public var description: String {
        "\(kind) \(appliesTo)→\(resultsIn)\(isFinalPart ? "" : " (more follow)"): \(changeCount) changes, \(bytes.count) bytes"
    }
}

extension AssignmentMessage {
    /// The fixed-size header, validated.
    struct Header {
        var kind: AssignmentMessageKind
        var moreFollows: Bool
        var resultsIn: UInt64
        var appliesTo: UInt64
        var changeCount: Int
        var stateDigest: UInt64

        init(_ raw: UnsafeRawBufferPointer) throws(AssignmentDecodingError) {
            let size = AssignmentWireFormat.headerSize
            guard raw.count >= size else { throw .truncated(offset: raw.count, needed: "the \(size)-byte header") }
            let magic = AssignmentWireFormat.magic
            guard raw[0] == magic.0, raw[1] == magic.1, raw[2] == magic.2, raw[3] == magic.3 else {
                throw .notAnAssignmentMessage
            }
            guard raw[4] == AssignmentWireFormat.version else { throw .unsupportedVersion(raw[4]) }
            guard let kind = AssignmentMessageKind(rawValue: raw[5]) else { throw .unknownKind(raw[5]) }
            guard raw[6] & ~AssignmentWireFormat.moreFollowsFlag == 0 else { throw .reservedBitsSet(offset: 6) }
            guard raw[7] == 0 else { throw .reservedBitsSet(offset: 7) }
            self.kind = kind
            moreFollows = raw[6] & AssignmentWireFormat.moreFollowsFlag != 0
            resultsIn = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            appliesTo = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            changeCount = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt32.self)))
            stateDigest = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 28, as: UInt64.self))
            let chained =
                switch kind {
                case .complete: appliesTo < resultsIn
                case .incremental: appliesTo < resultsIn && appliesTo + 1 == resultsIn
                }
            guard resultsIn > 0, chained else { throw .invalidSequence(resultsIn: resultsIn, appliesTo: appliesTo) }
            let body = raw.count - size
            guard changeCount <= body / AssignmentWireFormat.minimumChangeSize else {
                throw .countExceedsBody(count: changeCount, bodyBytes: body)
            }
        }
    }

    /// One change as it lies in the message: the payload is a byte range of the message.
    struct DecodedChange {
        var key: UInt64
        var isRemoval: Bool
        var version: UInt64
        var payloadStart: Int
        var payloadLength: Int
    }

    /// Reads changes one after another, checking each as it goes.
    struct ChangeCursor {
        let raw: UnsafeRawBufferPointer
        let kind: AssignmentMessageKind
        var offset = AssignmentWireFormat.headerSize
        var index = 0
        var previousKey: UInt64 = 0

        init(_ raw: UnsafeRawBufferPointer, kind: AssignmentMessageKind) {
            self.raw = raw
            self.kind = kind
        }

        mutating func next() throws(AssignmentDecodingError) -> DecodedChange {
            let start = offset
            let key = try readKey(at: start)
            let tagOffset = offset
            guard let tag = VarInt.read(raw, at: &offset) else {
                throw varintError(at: tagOffset, needed: "a change tag")
            }
            previousKey = key
            index += 1
            if tag == 0 {
                guard kind == .incremental else { throw .removalInComplete(AssignmentKey(packed: key)) }
                return DecodedChange(key: key, isRemoval: true, version: 0, payloadStart: offset, payloadLength: 0)
            }
            let versionOffset = offset
            guard let version = VarInt.read(raw, at: &offset) else {
                throw varintError(at: versionOffset, needed: "a version")
            }
            let length = tag - 1
            guard length <= UInt64(raw.count - offset) else {
                throw .truncated(offset: offset, needed: "a payload of \(length) bytes")
            }
            let payloadStart = offset
            offset += Int(length)
            return DecodedChange(
                key: key, isRemoval: false, version: version, payloadStart: payloadStart, payloadLength: Int(length))
        }

        private mutating func readKey(at start: Int) throws(AssignmentDecodingError) -> UInt64 {
            guard let delta = VarInt.read(raw, at: &offset) else { throw varintError(at: start, needed: "a key") }
            if index == 0 { return delta }
            guard delta > 0 else { throw .duplicateKey(AssignmentKey(packed: previousKey), offset: start) }
            let (key, overflow) = previousKey.addingReportingOverflow(delta)
            guard !overflow else { throw .keyOverflow(offset: start) }
            return key
        }

        /// A varint read failed: either the bytes ran out or the encoding is bad.
        private func varintError(at position: Int, needed: String) -> AssignmentDecodingError {
            var probe = position
            while probe < raw.count && probe - position < VarInt.maximumLength {
                if raw[probe] < 0x80 { return .malformedVarint(offset: position) }
                probe += 1
            }
            return probe == raw.count
                ? .truncated(offset: position, needed: needed) : .malformedVarint(offset: position)
        }
    }
}
