public import BeaconCore

/// The datagram lane's wire format: a heartbeat in one UDP datagram, and its answer in another.
///
/// A beat over gRPC costs the manager a wake-up, a read and a write of its own (docs/service.md),
/// whatever the dispatcher does with it; a datagram socket hands the manager every beat that
/// arrived since its last wake-up in one `recvmmsg` call and sends their answers in one
/// `sendmmsg`. Sessions, assignments and status reports stay on gRPC.
///
/// A datagram carries no node id and no session secret. Its tag is SipHash-2-4 keyed with the
/// session's 64-bit secret (which the node learned on its session stream), so only the holder of
/// the session can make a beat the manager accepts; the sequence number, which must grow with
/// every beat of a session, keeps a recorded beat from being replayed. The manager answers only
/// beats that check out, with a tagged reply the node verifies the same way. The argument in full
/// is in docs/service.md.
///
/// Both are 36 bytes, little-endian, and sign their first 28:
///
/// | bytes | request | reply |
/// |---|---|---|
/// | 0–3 | ``requestMagic`` | ``replyMagic`` |
/// | 4–11 | the session's handle: index × 2³² + generation | the same |
/// | 12–19 | sequence number, from 1 | the sequence it answers |
/// | 20–27 | 0 (reserved) | the period in nanoseconds |
/// | 28–35 | tag over bytes 0–27 | tag over bytes 0–27 |
///
/// A request is as large as its reply so that answering can never amplify traffic.
public enum HeartbeatDatagram {
    /// "BHB1": a heartbeat, version 1.
    public static let requestMagic: UInt32 = 0x3142_4842
    /// "BHA1": a heartbeat's answer, version 1.
    public static let replyMagic: UInt32 = 0x3141_4842
    /// The size of every request.
    public static let requestBytes = Fields.datagramBytes
    /// The size of every reply.
    public static let replyBytes = Fields.datagramBytes

    /// A request whose layout checks out; ``isAuthentic(secret:)`` says whether it is genuine.
    public struct Request: Sendable, Equatable {
        /// The session's registration, as its session id names it.
        public let handle: HeartbeatHandle
        /// The beat's number within its session.
        public let sequence: UInt64
        let tag: UInt64

        /// Whether the tag was made with `secret`, the session's secret.
        @inline(__always)
        public func isAuthentic(secret: UInt64) -> Bool {
            Fields(magic: requestMagic, handle: handle, sequence: sequence, word: 0).tag(secret: secret) == tag
        }
    }

    /// A reply whose tag checks out for the session it was read for.
    public struct Reply: Sendable, Equatable {
        /// The sequence number of the beat it answers.
        public let sequence: UInt64
        /// When the node should beat again.
        public let period: Duration
    }

    /// Writes `session`'s beat number `sequence` into the first ``requestBytes`` of `buffer`.
    ///
    /// - Throws: ``DispatcherError/invalidArgument(_:)`` for a sequence of 0 or a buffer shorter
    ///   than ``requestBytes``.
    public static func writeRequest(
        session: SessionID, sequence: UInt64, into buffer: UnsafeMutableRawBufferPointer
    ) throws(DispatcherError) {
        guard sequence > 0 else { throw .invalidArgument("a heartbeat datagram's sequence starts at 1") }
        guard buffer.count >= requestBytes else {
            throw .invalidArgument("a heartbeat datagram needs \(requestBytes) bytes, not \(buffer.count)")
        }
        writeCheckedRequest(session: session, sequence: sequence, into: buffer)
    }

    /// ``writeRequest(session:sequence:into:)`` for a caller that has made sure of the buffer's
    /// size and that the sequence is not 0.
    @inline(__always)
    package static func writeCheckedRequest(
        session: SessionID, sequence: UInt64, into buffer: UnsafeMutableRawBufferPointer
    ) {
        Fields(magic: requestMagic, handle: session.handle, sequence: sequence, word: 0)
            .write(signedWith: session.secret, into: buffer)
    }

    /// Reads a request's fields, or nil when `bytes` is not a request of this version (wrong
    /// size or magic, a sequence of 0, a reserved word that is not 0). The tag is not checked here: see
    /// ``Request/isAuthentic(secret:)``.
    @inline(__always)
    public static func readRequest(_ bytes: UnsafeRawBufferPointer) -> Request? {
        guard let (fields, tag) = Fields.read(bytes, magic: requestMagic), fields.sequence > 0, fields.word == 0 else {
            return nil
        }
        return Request(handle: SessionID.handle(ofWord: fields.handleWord), sequence: fields.sequence, tag: tag)
    }

    /// Writes the answer to `session`'s beat `sequence` into the first ``replyBytes`` of
    /// `buffer`, telling the node to beat again after `period` (rounded up to a nanosecond).
    ///
    /// - Throws: ``DispatcherError/invalidArgument(_:)`` for a buffer shorter than
    ///   ``replyBytes`` or a period that is not positive.
    public static func writeReply(
        session: SessionID, sequence: UInt64, period: Duration, into buffer: UnsafeMutableRawBufferPointer
    ) throws(DispatcherError) {
        guard buffer.count >= replyBytes else {
            throw .invalidArgument("a heartbeat reply needs \(replyBytes) bytes, not \(buffer.count)")
        }
        guard period > .zero else { throw .invalidArgument("a heartbeat period must be positive, not \(period)") }
        writeCheckedReply(session: session, sequence: sequence, period: period, into: buffer)
    }

    /// ``writeReply(session:sequence:period:into:)`` for a caller that has made sure of the
    /// buffer's size and the period's sign.
    @inline(__always)
    static func writeCheckedReply(
        session: SessionID, sequence: UInt64, period: Duration, into buffer: UnsafeMutableRawBufferPointer
    ) {
        Fields(magic: replyMagic, handle: session.handle, sequence: sequence, word: UInt64(period.nanosecondsRoundedUp))
            .write(signedWith: session.secret, into: buffer)
    }

    /// Reads a reply meant for `session`, or nil when `bytes` is not one: wrong size or magic,
    /// another session's, a period of 0, or a tag not made with the session's secret.
    public static func readReply(_ bytes: UnsafeRawBufferPointer, session: SessionID) -> Reply? {
        guard let (fields, tag) = Fields.read(bytes, magic: replyMagic),
            fields.handleWord == SessionID.word(of: session.handle), fields.word > 0, fields.word <= UInt64(Int64.max),
            fields.tag(secret: session.secret) == tag
        else { return nil }
        return Reply(sequence: fields.sequence, period: .nanoseconds(Int64(fields.word)))
    }

    /// The session handle a reply is addressed to, read before the reply itself so that a
    /// socket shared by many sessions can find the session to read it for; nil when `bytes` is
    /// not a reply of this version.
    public static func replyHandle(_ bytes: UnsafeRawBufferPointer) -> HeartbeatHandle? {
        Fields.read(bytes, magic: replyMagic).map { SessionID.handle(ofWord: $0.fields.handleWord) }
    }

    /// The layout requests and replies share: four fields in wire order, then a tag over them,
    /// SipHash-2-4 keyed with the session's secret and handle.
    struct Fields {
        static let datagramBytes = 36
        static let signedBytes = 28

        let magic: UInt32
        let handleWord: UInt64
        let sequence: UInt64
        /// A reply's period in nanoseconds; a request's reserved 0.
        let word: UInt64

        @inline(__always)
        init(magic: UInt32, handle: HeartbeatHandle, sequence: UInt64, word: UInt64) {
            self.init(magic: magic, handleWord: SessionID.word(of: handle), sequence: sequence, word: word)
        }

        @inline(__always)
        private init(magic: UInt32, handleWord: UInt64, sequence: UInt64, word: UInt64) {
            self.magic = magic
            self.handleWord = handleWord
            self.sequence = sequence
            self.word = word
        }

        /// The fields and tag of `bytes`, or nil unless it is a datagram of the lane's size that
        /// starts with `magic`.
        @inline(__always)
        static func read(_ bytes: UnsafeRawBufferPointer, magic: UInt32) -> (fields: Fields, tag: UInt64)? {
            guard bytes.count == datagramBytes, UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)) == magic
            else {
                return nil
            }
            func word(at offset: Int) -> UInt64 {
                UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            }
            return (
                Fields(magic: magic, handleWord: word(at: 4), sequence: word(at: 12), word: word(at: 20)), word(at: 28)
            )
        }

        /// Writes the fields and their tag made with `secret` into the first ``datagramBytes`` of
        /// `buffer`, which has room for them.
        @inline(__always)
        func write(signedWith secret: UInt64, into buffer: UnsafeMutableRawBufferPointer) {
            store(into: buffer)
            let tag = Self.sign(UnsafeRawBufferPointer(buffer), secret: secret, handleWord: handleWord)
            buffer.storeBytes(of: tag.littleEndian, toByteOffset: Self.signedBytes, as: UInt64.self)
        }

        /// The tag these fields carry when made with `secret`.
        @inline(__always)
        func tag(secret: UInt64) -> UInt64 {
            var wire = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            return withUnsafeMutableBytes(of: &wire) { out in
                store(into: out)
                return Self.sign(UnsafeRawBufferPointer(out), secret: secret, handleWord: handleWord)
            }
        }

        @inline(__always)
        private func store(into buffer: UnsafeMutableRawBufferPointer) {
            buffer.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt32.self)
            buffer.storeBytes(of: handleWord.littleEndian, toByteOffset: 4, as: UInt64.self)
            buffer.storeBytes(of: sequence.littleEndian, toByteOffset: 12, as: UInt64.self)
            buffer.storeBytes(of: word.littleEndian, toByteOffset: 20, as: UInt64.self)
        }

        @inline(__always)
        private static func sign(_ wire: UnsafeRawBufferPointer, secret: UInt64, handleWord: UInt64) -> UInt64 {
            SipHash24(k0: secret, k1: handleWord).hash(UnsafeRawBufferPointer(rebasing: wire[0..<signedBytes]))
        }
    }

    /// The receive buffer each end of the lane asks its socket for: a small datagram takes about
    /// 1 KiB of the kernel's accounting, so this holds some 4 000 beats or answers that arrive
    /// while the reader is busy (the kernel caps it at `net.core.rmem_max`; its default, 208 KiB,
    /// overflowed at 30 000 agents).
    public static let socketReceiveBufferBytes = 4 << 20

    /// Datagrams one `recvmmsg` of either end reads at most.
    package static let messagesPerRead = 64
    /// Room for each datagram read: more than a request or reply, so that a longer datagram
    /// arrives too long (and is refused) instead of cut down to the right size.
    package static let bytesPerMessageRead = 64
}
