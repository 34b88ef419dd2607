#if GRPC
package import NIOCore

/// Cuts a gRPC request body into its messages: each is a compressed flag, a 4-byte big-endian
/// length and that many bytes, and a message may arrive split over several HTTP/2 DATA frames or
/// share one with others. Only uncompressed messages are read: the calls this serves negotiated
/// no compression, so a flagged message breaks the protocol.
package struct GRPCMessageReader {
    /// The largest message accepted, in bytes.
    private let maximumMessageBytes: Int
    private var buffered: ByteBuffer?

    /// Why a body cannot be read.
    package enum Failure: Error {
        /// A message is flagged compressed on a call without compression.
        case compressedMessage
        /// A message is longer than ``GRPCMessageReader/maximumMessageBytes``.
        case tooLarge(bytes: Int)
        /// The body ended inside a message.
        case truncated
    }

    package init(maximumMessageBytes: Int) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Takes one DATA frame's bytes.
    package mutating func append(_ bytes: ByteBuffer) {
        guard var kept = buffered else {
            buffered = bytes
            return
        }
        buffered = nil
        // Only the unread part is kept: a stream whose frames keep ending inside a message must
        // not hold every byte it ever sent.
        kept.discardReadBytes()
        var incoming = bytes
        kept.writeBuffer(&incoming)
        buffered = kept
    }

    /// The bytes held for messages not yet whole, as allocated.
    package var bufferedCapacity: Int { buffered?.capacity ?? 0 }

    /// The next whole message, or nil until more bytes arrive.
    package mutating func next() throws(Failure) -> ByteBuffer? {
        guard var bytes = buffered, bytes.readableBytes >= 5 else { return nil }
        let start = bytes.readerIndex
        let flag = bytes.getInteger(at: start, as: UInt8.self)!
        let length = Int(bytes.getInteger(at: start + 1, as: UInt32.self)!)
        // The length first, then the flag, of which only 1 marks a compressed message: grpc-swift
        // reads them so, and the two paths answer alike.
        guard length <= maximumMessageBytes else { throw .tooLarge(bytes: length) }
        guard flag != 1 else { throw .compressedMessage }
        guard bytes.readableBytes >= 5 + length else { return nil }
        bytes.moveReaderIndex(forwardBy: 5)
        let message = bytes.readSlice(length: length)!
        // A drained buffer is dropped so the next frame is taken as it is, without a copy.
        buffered = bytes.readableBytes == 0 ? nil : bytes
        return message
    }

    /// Throws ``Failure/truncated`` when the body ended with part of a message unread.
    package func checkEnded() throws(Failure) {
        if let buffered, buffered.readableBytes > 0 { throw .truncated }
    }
}
#endif
