import ArgumentParser
import BeaconAgent
import BeaconCommandLine
// Every command of this tool reads its options through the types both tools share
// (`DurationArgument`, `OptionValue`, `parseOption`), so they are visible in every file.
@_exported import BeaconCommandLineOptions
import BeaconCoordinationEtcd

/// The endpoints of an `--etcd` option (`http://a:2379,http://b:2379`), shared by `serve` and
/// `scheduler`.
func etcdEndpoints(_ text: String) throws(ValidationError) -> [String] {
    let endpoints = try parseOption("--etcd") { () throws(CommandLineValueError) in
        try CommaSeparatedList.elements(text, of: "etcd client URLs").map(String.init)
    }
    if let problem = EtcdEndpoints.problem(with: endpoints) { throw ValidationError("--etcd: \(problem)") }
    return endpoints
}

/// Checks `--etcd` of a command that talks to etcd over the network layers (`serve`, `loadgen`):
/// the URLs parse, and this beacon was built with etcd support.
func checkEtcdOption(_ text: String, command: String) throws(ValidationError) {
    _ = try etcdEndpoints(text)
    #if GRPC && !Etcd
    throw ValidationError(
        "--etcd: this beacon was built without etcd support; run it as `swift run -c release --traits GRPC,Etcd beacon \(command) …`"
    )
    #endif
}

/// Checks the manager addresses a `--manager` option gave (`agent`, `loadgen`): each parses, and
/// none repeats another's host and port number (`127.0.0.1:4242` and `127.0.0.1:04242` are one
/// manager; hosts are compared as written, so `[::1]` and `[0::1]` are not found the same).
func checkManagerAddresses(_ texts: [String]) throws(ValidationError) {
    var seen: Set<ManagerAddress> = []
    for text in texts {
        let address: ManagerAddress
        do {
            address = try ManagerAddress(text)
        } catch {
            throw ValidationError("--manager: '\(text)': \(error)")
        }
        guard seen.insert(address).inserted else {
            throw ValidationError("--manager lists an address twice: '\(text)' names a manager given before it")
        }
    }
}
