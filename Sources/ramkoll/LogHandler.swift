import Foundation
import Logging

/// One line per event on stderr: `ts=… level=info msg="stage finished" stage=normalize seconds=0.4`.
/// Messages are constants; data goes in metadata keys (never amounts of individuals or personnummer).
struct KeyValueLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let ts = ISO8601DateFormatter().string(from: Date())
        var line = "ts=\(ts) level=\(event.level) msg=\(quote("\(event.message)"))"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (k, v) in merged.sorted(by: { $0.key < $1.key }) { line += " \(k)=\(quote("\(v)"))" }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private func quote(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) { return s }
        return "\""
            + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            + "\""
    }
}

extension RamkollLogging {
    static func bootstrapRamkoll(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var h = KeyValueLogHandler(label: label)
            h.logLevel = level
            return h
        }
        return Logger(label: "ramkoll")
    }
}

enum RamkollLogging {}
