import ArgumentParser
import Foundation
import Logging
import RamkollPipeline
import Synchronization

#if canImport(Glibc)
    import Glibc
    private let sysWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin
    private let sysWrite = Darwin.write
#endif

/// Standard error as the process writes it: whole lines through write(2), never a trap. A write
/// that fails (a full disk under the log file, a closed pipe) turns further log lines off — the
/// run goes on and ends with its record — instead of killing the process.
enum Stderr {
    private static let failed = Atomic<Bool>(false)

    static func write(_ text: String) {
        guard !failed.load(ordering: .relaxed) else { return }
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = sysWrite(2, buf.baseAddress! + offset, buf.count - offset)
                if n > 0 { offset += n; continue }
                if n < 0 && errno == EINTR { continue }
                failed.store(true, ordering: .relaxed)
                return
            }
        }
    }
}

/// How log events are written: `key-value` (one `ts=… level=… msg=…` line per event) or `json`
/// (one JSON object per line, for log aggregation).
enum LogFormat: String, CaseIterable, Sendable {
    case keyValue = "key-value", json
}

/// One line per event on stderr: `ts=… level=info msg="stage finished" stage=normalize seconds=0.4`,
/// or the same as a JSON object. Messages are constants; data goes in metadata keys (never
/// amounts of individuals or personnummer).
struct RamkollLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String
    let format: LogFormat

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        Stderr.write(
            RamkollLogHandler.line(level: "\(event.level)", message: "\(event.message)", fields: merged.mapValues { "\($0)" }, format: format))
    }

    static func line(level: String, message: String, fields: [String: String], format: LogFormat) -> String {
        let ts = ISO8601DateFormatter().string(from: Date())
        switch format {
        case .keyValue:
            var line = "ts=\(ts) level=\(level) msg=\(quote(message))"
            for (k, v) in fields.sorted(by: { $0.key < $1.key }) { line += " \(k)=\(quote(v))" }
            return line + "\n"
        case .json:
            var object = ["ts": ts, "level": level, "msg": message]
            for (k, v) in fields where object[k] == nil { object[k] = v }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self) + "\n"
        }
    }

    private static func quote(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) { return s }
        return "\""
            + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            + "\""
    }
}

/// The logging options of the commands that run stages.
struct LogOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Print nothing on success; log only warnings and errors.")
    var quiet = false

    @Flag(help: "Log debug events too: each input file read, each stage's decision and row counts.")
    var verbose = false

    @Option(
        name: .customLong("log-format"),
        help: "How log events are written on stderr: key-value (one key=value line each) or json (one object per line).")
    var logFormat: String = LogFormat.keyValue.rawValue

    func validate() throws {
        guard LogFormat(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format is key-value or json, not \"\(logFormat)\"")
        }
    }

    var level: Logger.Level { verbose ? .debug : (quiet ? .warning : .info) }
    var format: LogFormat { LogFormat(rawValue: logFormat) ?? .keyValue }
}

/// The process's error line, written once: `ramkoll: error: …` in key-value mode, one JSON event
/// with the reason and the exit status in json mode.
enum ErrorReport {
    private static let json = Atomic<Bool>(false)

    static func write(_ message: String, kind: String = "error", status: Int32) {
        if json.load(ordering: .relaxed) {
            Stderr.write(
                RamkollLogHandler.line(
                    level: "error", message: kind == "locked" ? "run not started" : "stopped",
                    fields: ["reason": message, "exit": String(status), "outcome": ExitStatus(rawValue: status)?.name ?? "failure"], format: .json))
        } else {
            Stderr.write("ramkoll: \(kind): \(message)\n")
        }
    }

    static func use(_ format: LogFormat) { json.store(format == .json, ordering: .relaxed) }
}

enum RamkollLogging {
    static func bootstrapRamkoll(level: Logger.Level, format: LogFormat = .keyValue) -> Logger {
        ErrorReport.use(format)
        LoggingSystem.bootstrap { label in
            var h = RamkollLogHandler(label: label, format: format)
            h.logLevel = level
            return h
        }
        return Logger(label: "ramkoll")
    }

    static func bootstrapRamkoll(_ options: LogOptions) -> Logger { bootstrapRamkoll(level: options.level, format: options.format) }
}
