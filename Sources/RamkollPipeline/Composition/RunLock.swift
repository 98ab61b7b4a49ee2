import Foundation
import RamkollModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run per pipeline and period at a time (the cron contract). The lock is a file holding its
/// holder (process id, host, start time, arguments), made by writing a temporary file and
/// hard-linking it to the lock's name — `link` fails when the name exists, so exactly one process
/// wins, and the lock is never seen half-written. A lock whose process is gone (same host, no such
/// process) is stale: it is taken over and the takeover is logged.
public final class RunLock: @unchecked Sendable {
    public struct Holder: Codable, Sendable, Equatable {
        public var pid: Int32
        public var host: String
        public var startedAt: String
        public var arguments: [String]
        /// When the process began, in clock ticks after boot (Linux `/proc/PID/stat`): a process
        /// id the system has since given to another process does not hold the lock.
        public var processStart: String?
        enum CodingKeys: String, CodingKey { case pid, host, startedAt = "started_at", arguments, processStart = "process_start" }

        public static func current(arguments: [String]) -> Holder {
            Holder(
                pid: getpid(), host: ProcessInfo.processInfo.hostName, startedAt: ISO8601DateFormatter().string(from: Date()),
                arguments: arguments, processStart: RunLock.processStart(getpid()))
        }
        public var description: String { "process \(pid) on \(host), started \(startedAt)" }
    }

    public let path: String
    public let holder: Holder
    /// The holder of a stale lock this one replaced, if any.
    public let replacedStale: Holder?
    private var released = false

    private init(path: String, holder: Holder, replacedStale: Holder?) {
        self.path = path; self.holder = holder; self.replacedStale = replacedStale
    }

    /// Whether the holder's process still runs on this machine: its id exists and, where the
    /// lock recorded it, began when the holder's did (not a later process given the same id).
    static func isAlive(_ holder: Holder) -> Bool {
        guard kill(holder.pid, 0) == 0 || errno == EPERM else { return false }  // EPERM: exists, but is not ours
        guard let recorded = holder.processStart, let now = processStart(holder.pid) else { return true }
        return recorded == now
    }

    /// Field 22 of `/proc/PID/stat` (the start time), or nil where there is no such file.
    static func processStart(_ pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"), let text = String(data: data, encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" come the fields from 3 on; the command name may hold spaces and ")".
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    public static func read(_ path: String) -> Holder? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Holder.self, from: data)
    }

    /// Takes the lock or throws a `.locked` error naming the holder.
    public static func acquire(path: String, holder: Holder) throws -> RunLock {
        try FileIO.createDirectory((path as NSString).deletingLastPathComponent)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(holder)
        data.append(0x0A)
        let temp = path + ".\(holder.pid).tmp"
        try data.write(to: URL(fileURLWithPath: temp))
        defer { unlink(temp) }
        var replaced: Holder?
        for _ in 0..<2 {
            if link(temp, path) == 0 { return RunLock(path: path, holder: holder, replacedStale: replaced) }
            guard errno == EEXIST else {
                throw RamkollError(.internalFailure, "cannot create the lock \(path): \(String(cString: strerror(errno)))")
            }
            guard let other = read(path) else {
                throw RamkollError(.locked, "\(path) exists but cannot be read; if no run is under way, remove it")
            }
            if other.host == holder.host && !isAlive(other) {
                // Stale: its process is gone. Remove it only if it is still that very lock.
                replaced = other
                let stale = path + ".\(holder.pid).stale"
                if rename(path, stale) == 0 {
                    if read(stale) == other { unlink(stale) } else { _ = link(stale, path); unlink(stale) }
                }
                continue
            }
            throw RamkollError(.locked, "another run holds the lock \(path): \(other.description) (\(other.arguments.joined(separator: " ")))")
        }
        throw RamkollError(.locked, "could not take the lock \(path); another run took it first")
    }

    public func release() {
        guard !released else { return }
        released = true
        if RunLock.read(path) == holder { unlink(path) }
    }

    deinit { release() }
}
