#if GRPC
/// What ``RPCListener`` needs to answer heartbeat calls on the event loop: one
/// ``EventLoopHeartbeatHandler`` per HTTP/2 stream, all sharing these.
package struct EventLoopHeartbeats: Sendable {
    let answer: EventLoopHeartbeatHandler.Answer
    let authenticator: NodeAuthenticator
    let metrics: RPCMetrics?

    func handler(maximumRequestBytes: Int) -> EventLoopHeartbeatHandler {
        EventLoopHeartbeatHandler(
            answer: answer, authenticator: authenticator, maximumRequestBytes: maximumRequestBytes, metrics: metrics)
    }
}
#endif
