import Foundation

/// The endpoints an etcd store may be given, checked the same way by the store and by the
/// command-line options that name them, in every build: a command line the tools accept runs
/// once they are built with etcd support, and one they refuse is refused before anything starts.
package enum EtcdEndpoints {
    /// What is wrong with `endpoints`, or nil: at least one, each `http://host[:port]` (TLS is not
    /// supported).
    package static func problem(with endpoints: [String]) -> String? {
        guard !endpoints.isEmpty else { return "at least one endpoint is needed" }
        for endpoint in endpoints {
            guard endpoint.hasPrefix("http://"), URL(string: endpoint)?.host?.isEmpty == false else {
                return "endpoint \(endpoint) is not http://host:port"
            }
        }
        return nil
    }
}
