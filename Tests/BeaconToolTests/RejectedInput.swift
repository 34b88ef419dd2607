import Testing

/// One row of a bad-input table: a command line and what its refusal must mention.
struct RejectedInput: Sendable, CustomTestStringConvertible {
    let arguments: [String]
    let mentioning: [String]

    init(_ arguments: [String], _ mentioning: [String]) {
        self.arguments = arguments
        self.mentioning = mentioning
    }

    /// The command line, so a failing row is found by what was typed.
    var testDescription: String { ToolProcess.quoted(arguments) }
}
