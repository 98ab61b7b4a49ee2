/// A recoverable problem, as a value. Only fatal problems throw; everything else is collected and
/// written out (rejects files, `ramkoll check` output). The message reads like
/// `file:line: what is wrong; what was expected — what to do`.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable, Comparable {
        case warning, error
        public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .error }
    }
    public let severity: Severity
    public let file: String
    public let line: Int?
    public let field: String?
    public let rawValue: String?
    public let message: String

    public init(
        _ severity: Severity, file: String, line: Int?, field: String? = nil,
        rawValue: String? = nil, _ message: String
    ) {
        self.severity = severity; self.file = file; self.line = line
        self.field = field; self.rawValue = rawValue; self.message = message
    }

    public var location: String { line.map { "\(file):\($0)" } ?? file }
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// A fatal error that names where and what. Thrown only when a stage cannot go on.
public struct RamkollError: Error, CustomStringConvertible, Sendable {
    /// `locked`: another run of the same pipeline and period holds the lock.
    public enum Kind: Sendable { case usage, config, input, data, internalFailure, locked }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { message }
}
