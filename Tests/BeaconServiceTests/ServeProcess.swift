#if GRPC
import Foundation

#if canImport(Glibc)
import Glibc
#endif
import BeaconPrimitives

/// `beacon serve` as an operator runs it: the executable `swift build --build-tests` put beside
/// this test bundle, in a process of its own, its output collected as it prints.
final class ServeProcess: Sendable {
    /// Text a pipe has delivered so far.
    private final class Collected: Sendable {
        let text = PosixMutex("")
    }

    private let process: Process
    private let output = Collected()
    private let errors = Collected()

    init(_ arguments: [String]) throws {
        let bundle = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        process = Process()
        process.executableURL = bundle.deletingLastPathComponent().appendingPathComponent("beacon")
        process.arguments = ["serve"] + arguments
        process.standardInput = FileHandle.nullDevice
        let standardOutput = Pipe()
        let standardError = Pipe()
        process.standardOutput = standardOutput
        process.standardError = standardError
        try process.run()
        Self.collect(standardOutput.fileHandleForReading, into: output)
        Self.collect(standardError.fileHandleForReading, into: errors)
    }

    /// Everything printed on standard output so far.
    var printed: String { output.text.withLock { $0 } }
    /// Everything logged on standard error so far.
    var logged: String { errors.text.withLock { $0 } }

    /// The port of the first printed line that starts with `prefix` and names 127.0.0.1:PORT,
    /// once one is printed; nil if the process exits first or none comes within about 60 s.
    func port(announcedBy prefix: String) async throws -> Int? {
        for _ in 0..<6000 {
            for line in printed.split(separator: "\n") where line.hasPrefix(prefix) {
                guard let range = line.range(of: "127.0.0.1:") else { continue }
                return Int(line[range.upperBound...].prefix { $0.isNumber })
            }
            guard process.isRunning else { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// A test that ends early (a failed `#require`) does not leave the server running.
    deinit {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// SIGKILL: the process ends without a word to anyone.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM, as a service manager stops it; its exit status once it has exited.
    func terminate() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Reads `handle` to its end on a thread of its own (no cooperative thread waits on a read).
    private static func collect(_ handle: FileHandle, into collected: Collected) {
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                collected.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
    }
}
#endif
