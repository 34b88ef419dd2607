import ArgumentParser
import BeaconCommandLine
import Foundation

/// The checks `serve`, `agent` and `loadgen` make of their options; each refusal names the
/// option, the text and what is accepted, in the words of ``CommandLineValueError``.
enum OptionCheck {
    /// Refuses an identifier that is empty, longer than `limit` characters, or not visible ASCII:
    /// node ids travel in gRPC metadata, which carries nothing else.
    static func identifier(_ text: String, _ option: String, atMost limit: Int) throws(ValidationError) {
        let visible = text.utf8.allSatisfy { (0x21...0x7E).contains($0) }
        guard !text.isEmpty, text.utf8.count <= limit, visible else {
            throw ValidationError(
                "\(option): \(CommandLineValueError.malformed(text, expected: "1 to \(limit) visible ASCII characters, no spaces"))"
            )
        }
    }
}
