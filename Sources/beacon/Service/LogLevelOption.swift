import ArgumentParser
import Logging

/// `--log-level`: swift-log's levels by name. The process logs to standard error at the level
/// and above; `info`, the default, is what the commands logged before the option existed.
enum LogLevelOption: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }

    /// Sends every logger of the process to standard error at this level. Once per process,
    /// before the first logger is made.
    func bootstrap() {
        let level = level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
