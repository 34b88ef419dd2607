#if GRPC
import BeaconPrimitives
import NIOCore

/// The HTTP/2 connections a server holds, so that cancelling it closes them: a stream answered by
/// ``EventLoopHeartbeatHandler`` has no handler task for the cancellation to end, and grpc-swift
/// waits for every accepted stream to close before its `serve()` returns.
final class OpenConnections: Sendable {
    private let state = PosixMutex(State())

    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var closed = false
    }

    /// Holds `channel` until it closes; closes it at once if ``closeAll()`` came first.
    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            guard !state.closed else { return false }
            state.channels[id] = channel
            return true
        }
        guard accepted else { return channel.close(promise: nil) }
        channel.closeFuture.whenComplete { [state] _ in
            _ = state.withLock { $0.channels.removeValue(forKey: id) }
        }
    }

    /// Closes every connection held, and every one added later.
    func closeAll() {
        let channels = state.withLock { state in
            state.closed = true
            return Array(state.channels.values)
        }
        for channel in channels { channel.close(promise: nil) }
    }
}
#endif
