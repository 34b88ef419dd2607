import ArgumentParser
import BeaconCommandLine

/// Runs one of BeaconCommandLine's parsers on an option's text; a refusal becomes the
/// `ValidationError` ArgumentParser prints, naming the option, the text and what is accepted.
func parseOption<Value>(_ option: String, _ parse: () throws(CommandLineValueError) -> Value) throws(ValidationError) -> Value {
    do {
        return try parse()
    } catch {
        throw ValidationError("\(option): \(error)")
    }
}

/// The endpoints of an `--etcd` option (`http://a:2379,http://b:2379`), shared by `serve` and
/// `scheduler`.
func etcdEndpoints(_ text: String) throws(ValidationError) -> [String] {
    try parseOption("--etcd") { () throws(CommandLineValueError) in
        try CommaSeparatedList.elements(text, of: "etcd client URLs").map(String.init)
    }
}
