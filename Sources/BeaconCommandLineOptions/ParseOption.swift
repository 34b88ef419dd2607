package import ArgumentParser

/// Runs one of BeaconCommandLine's parsers on an option's text from a command's `validate()`
/// (a list, or a check across options); a refusal becomes the exit-64 `ValidationError`
/// ArgumentParser prints: the option, then the refusal's description, which for a
/// `CommandLineValueError` names the text and what is accepted.
package func parseOption<Value, Failure: Error>(
    _ option: String, _ parse: () throws(Failure) -> Value
) throws(ValidationError) -> Value {
    do {
        return try parse()
    } catch {
        throw ValidationError("\(option): \(error)")
    }
}
