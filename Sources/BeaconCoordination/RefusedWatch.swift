extension AsyncThrowingStream where Element == [StoreChange], Failure == any Error {
    /// A watch refused before it starts: a stream that ends at once with `error`, as a store's
    /// `watch` reports everything through its stream.
    package static func refused(_ error: CoordinationError) -> Self {
        let (stream, continuation) = makeStream()
        continuation.finish(throwing: error)
        return stream
    }

    /// The refusal of a watch after `revision` when no revision can follow it (`Int64.max`).
    package static func nothing(after revision: Int64) -> Self {
        refused(.invalidArgument("watch: no revision can follow \(revision)"))
    }
}
