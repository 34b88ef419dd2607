import BeaconPrimitives
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a finished tool run printed and how it ended.
struct ToolOutcome: Sendable {
    /// The exit status, or the signal number when ``signalled``.
    let exitCode: Int32
    /// The process was ended by a signal (a trap, an abort, or the harness's kill on timeout).
    let signalled: Bool
    let standardOutput: String
    let standardError: String
}

/// Why a tool could not be run to the end.
enum ToolProcessError: Error, CustomStringConvertible {
    /// The executable is not next to the test bundle.
    case missing(URL)
    /// The run took longer than its timeout and was killed.
    case timedOut(command: String, after: Duration)

    var description: String {
        switch self {
        case .missing(let url):
            return
                "\(url.path) is missing: build it with `swift build --build-tests` (or `swift build --product \(url.lastPathComponent)`)"
        case .timedOut(let command, let timeout):
            return "`\(command)` was still running after \(timeout) and was killed"
        }
    }
}

/// Runs the package's command-line tools as a user does: a process of their own, arguments as
/// typed, output captured.
enum ToolProcess {
    /// `tool` ("beacon" or "beacon-master-worker"), built by `swift build --build-tests` into the
    /// folder that holds this test bundle.
    static func executable(_ tool: String) throws -> URL {
        let bundle = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let url = bundle.deletingLastPathComponent().appendingPathComponent(tool)
        guard FileManager.default.isExecutableFile(atPath: url.path) else { throw ToolProcessError.missing(url) }
        return url
    }

    /// Runs `tool` ("beacon" or "beacon-master-worker", built next to the test bundle) with `arguments`,
    /// stdin closed; kills it and throws ToolProcessError.timedOut if it runs longer than `timeout`.
    /// `environment` is added to this process's (`TMPDIR` for a temporary folder of the test's own).
    static func run(
        _ tool: String, _ arguments: [String], timeout: Duration = .seconds(30), environment: [String: String] = [:]
    ) async throws -> ToolOutcome {
        let process = Process()
        process.executableURL = try executable(tool)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let exit = AsyncStream<Never>.makeStream()
        let state = RunState()
        process.terminationHandler = { _ in
            state.exited.withLock { $0 = true }
            exit.continuation.finish()
        }
        try process.run()

        let pid = process.processIdentifier
        let killer = Task {
            try await Task.sleep(for: timeout)
            state.exited.withLock { exited in
                guard !exited else { return }
                kill(pid, SIGKILL)
                state.killed.withLock { $0 = true }
            }
        }
        // Each pipe is drained on a thread of its own, so a tool that fills one pipe while the
        // other is being read cannot block, and no cooperative thread waits on a read.
        async let standardOutput = readToEnd(output.fileHandleForReading)
        async let standardError = readToEnd(error.fileHandleForReading)
        let printed = (output: await standardOutput, error: await standardError)
        for await _ in exit.stream {}
        killer.cancel()
        if state.killed.withLock({ $0 }) {
            throw ToolProcessError.timedOut(command: commandLine(tool, arguments), after: timeout)
        }
        return ToolOutcome(
            exitCode: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
            standardOutput: String(decoding: printed.output, as: UTF8.self),
            standardError: String(decoding: printed.error, as: UTF8.self))
    }

    /// `tool` and `arguments` as a shell would take them, for messages.
    static func commandLine(_ tool: String, _ arguments: [String]) -> String {
        quoted([tool] + arguments)
    }

    /// `words` as a shell would take them: plain ones as they are, others in single quotes.
    static func quoted(_ words: [String]) -> String {
        words.map { word in
            let plain = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_=.,/:@+".contains($0) }
            return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }

    private static func readToEnd(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: (try? handle.readToEnd()) ?? Data())
            }
        }
    }

    /// Whether the process has exited, and whether the timeout killed it: the kill happens only
    /// under the `exited` lock, so it never reaches a process that has already been reaped.
    private final class RunState: Sendable {
        let exited = PosixMutex(false)
        let killed = PosixMutex(false)
    }
}

/// Asserts (with #expect, recording the arguments in the message) that the run exited 64, was not
/// signalled, printed nothing on stdout, and that stderr contains every string in `mentioning`
/// (e.g. the option name and the accepted range).
func expectRejected(
    _ tool: String, _ arguments: [String], mentioning: [String], sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let outcome = try await ToolProcess.run(tool, arguments)
    let command = ToolProcess.commandLine(tool, arguments)
    #expect(
        outcome.exitCode == 64 && !outcome.signalled,
        "`\(command)` \(outcome.signalled ? "was killed by signal" : "exited") \(outcome.exitCode), not 64; stderr: \(outcome.standardError)",
        sourceLocation: sourceLocation)
    #expect(
        outcome.standardOutput.isEmpty, "`\(command)` printed on stdout: \(outcome.standardOutput)",
        sourceLocation: sourceLocation)
    for text in mentioning {
        #expect(
            outcome.standardError.contains(text),
            "`\(command)`: stderr does not mention '\(text)': \(outcome.standardError)",
            sourceLocation: sourceLocation)
    }
}
