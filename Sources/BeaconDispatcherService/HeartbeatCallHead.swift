#if GRPC
import BeaconDispatcherAPI
import NIOHPACK

/// What the request headers of an HTTP/2 stream say about a heartbeat call, for
/// ``EventLoopHeartbeatHandler``: whether it is a `Heartbeat` or `HeartbeatStream` call in the
/// plain form the handler answers itself, and if so the node it claims and its deadline.
///
/// Anything else is left to grpc-swift, which answers it as it answers every call: other methods,
/// another content type or method, compression, a deadline that does not parse.
package struct HeartbeatCallHead {
    /// Which of the two heartbeat methods the call is.
    enum Method {
        /// `Heartbeat`: one request, one answer (SwarmKit's call).
        case unary
        /// `HeartbeatStream`: one answer per request, in order, until the node ends the stream.
        case stream
    }

    let method: Method
    /// The `beacon-node-id` values, as sent.
    let claimedNodes: [String]
    /// The `grpc-timeout`, if the call has one.
    let timeout: Duration?

    static let unaryPath = "/" + Beacon_Dispatcher_V1_Dispatcher.Method.Heartbeat.descriptor.fullyQualifiedMethod
    static let streamPath =
        "/" + Beacon_Dispatcher_V1_Dispatcher.Method.HeartbeatStream.descriptor.fullyQualifiedMethod

    /// Reads a stream's request headers; nil unless they open a heartbeat call in the form
    /// answered on the event loop.
    init?(_ headers: HPACKHeaders) {
        var method: Method?
        var isPost = false
        var isGRPC = false
        var claimedNodes: [String] = []
        var timeout: Duration?
        for (name, value, _) in headers {
            switch name {
            case ":path":
                if value == Self.unaryPath {
                    method = .unary
                } else if value == Self.streamPath {
                    method = .stream
                } else {
                    return nil
                }
            case ":method": isPost = value == "POST"
            case "content-type": isGRPC = value == "application/grpc" || value == "application/grpc+proto"
            case "grpc-encoding": guard value == "identity" else { return nil }
            case "grpc-timeout":
                guard let parsed = Self.timeout(value) else { return nil }
                timeout = parsed
            case DispatcherWire.nodeIDMetadataKey: claimedNodes.append(value)
            default: continue
            }
        }
        guard let method, isPost, isGRPC else { return nil }
        self.method = method
        self.claimedNodes = claimedNodes
        self.timeout = timeout
    }

    /// A `grpc-timeout` value: 1 to 8 digits and a unit (hours, minutes, seconds, milli-, micro-
    /// or nanoseconds), as the gRPC over HTTP/2 protocol writes it.
    package static func timeout(_ value: String) -> Duration? {
        let utf8 = value.utf8
        guard (2...9).contains(utf8.count), let unit = utf8.last else { return nil }
        var amount: Int64 = 0
        for digit in utf8.dropLast() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .seconds(amount * 3600)
        case UInt8(ascii: "M"): return .seconds(amount * 60)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }
}
#endif
