#if GRPC
/// Why a ``MetricsEndpoint`` could not start.
package struct MetricsEndpointError: Error, CustomStringConvertible {
    /// The address that was asked for, as `host:port`.
    package let address: String
    /// What the system said.
    package let reason: String

    package var description: String { "cannot serve metrics on \(address): \(reason)" }
}
#endif
