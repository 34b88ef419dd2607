/// Why a command-line value was refused. Every case carries what the parser expected, so the
/// message a tool prints names the accepted syntax and range rather than only the bad text.
package enum CommandLineValueError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The whole value was empty (`--only ''`, `--duration ''`).
    case empty(expected: String)
    /// A list had nothing between two commas, or before the first or after the last one
    /// (`10,,100`, `10,`). `position` counts list items from 1.
    case emptyElement(list: String, position: Int, expected: String)
    /// The text does not follow the syntax: a sign, an exponent, a missing unit, a stray character.
    case malformed(String, expected: String)
    /// The text is well formed but its value lies outside the accepted range, including values
    /// too large for any integer type.
    case outOfRange(String, expected: String)
    /// The value has more decimal places than the parser keeps (`0.0005s` is finer than a
    /// millisecond); refused rather than silently rounded.
    case tooPrecise(String, resolution: String, expected: String)
    /// A name that is not one of the known ones.
    case unknownName(String, known: [String])

    package var description: String {
        switch self {
        case .empty(let expected):
            return "the value is empty; expected \(expected)"
        case .emptyElement(let list, let position, let expected):
            return "'\(list)' has an empty item at position \(position); expected \(expected)"
        case .malformed(let text, let expected):
            return "'\(text)' is not valid; expected \(expected)"
        case .outOfRange(let text, let expected):
            return "'\(text)' is out of range; expected \(expected)"
        case .tooPrecise(let text, let resolution, let expected):
            return "'\(text)' is finer than \(resolution); expected \(expected)"
        case .unknownName(let text, let known):
            return "unknown name '\(text)'; known: \(known.joined(separator: ", "))"
        }
    }
}
