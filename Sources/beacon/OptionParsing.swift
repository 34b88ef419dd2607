import ArgumentParser
import BeaconCommandLine
// Every command of this tool reads its options through the types both tools share
// (`DurationArgument`, `OptionValue`, `parseOption`), so they are visible in every file.
@_exported import BeaconCommandLineOptions

/// The endpoints of an `--etcd` option (`http://a:2379,http://b:2379`), shared by `serve` and
/// `scheduler`.
func etcdEndpoints(_ text: String) throws(ValidationError) -> [String] {
    try parseOption("--etcd") { () throws(CommandLineValueError) in
        try CommaSeparatedList.elements(text, of: "etcd client URLs").map(String.init)
    }
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
