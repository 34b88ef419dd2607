#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard output or standard error written a line at a time, each line with `write(2)` and no
/// buffer: a pipe or a log file gets it as soon as it is printed (`print` buffers whole blocks
/// when the output is not a terminal), and lines from threads writing at once never interleave
/// (a pipe takes a write of up to 4 KiB whole). What the tools' progress, acknowledgement and
/// error lines go through.
package enum LineOutput {
    case standardOutput
    case standardError

    /// Writes `text` and a newline, retrying a short or interrupted write. A closed or full
    /// output loses the line: there is nowhere left to say so.
    package func write(_ text: String) {
        let descriptor = self == .standardOutput ? STDOUT_FILENO : STDERR_FILENO
        var bytes = Array((text + "\n").utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}

/// The C library's `write`, under a name the method above does not shadow.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
