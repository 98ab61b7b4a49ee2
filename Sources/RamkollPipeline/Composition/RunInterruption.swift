import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a SIGTERM or SIGINT leaves behind: the run under way recorded as `failed` (exit 128 +
/// the signal's number, "stopped by SIGTERM") and its lock released, so that `ramkoll retry`
/// resumes it and the next night's run does not wait on a lock. The runner writes its record
/// through here, under the same mutex the handler takes, so the handler's record is the last
/// word: it writes and ends the process while holding it.
public enum RunInterruption {
    struct Current {
        var record: RunRecord?
        var directory: String?
        var lock: RunLock?
    }

    private static let current = Mutex(Current())
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Handles SIGTERM and SIGINT from now on (the executable calls this once, first thing).
    public static func install() {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stop(signal: sig) }
            source.resume()
            sources.append(source)
        }
    }

    static func stop(signal sig: Int32) {
        current.withLock { c in
            let name = sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal \(sig)"
            if var record = c.record, let dir = c.directory {
                record.state = "failed"
                record.exitStatus = 128 + sig
                record.error = "stopped by \(name); ramkoll retry resumes from the stage that did not finish"
                record.finishedAt = ISO8601DateFormatter().string(from: Date())
                try? record.write(to: dir)
                RunStore.seal(dir)
            }
            c.lock?.release()
            let line = "ramkoll: stopped by \(name)" + (c.record.map { "; run \($0.runID) recorded as failed" } ?? "") + "\n"
            _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
            _exit(128 + sig)
        }
    }

    /// The lock the process holds (released on a signal).
    static func holding(_ lock: RunLock?) { current.withLock { $0.lock = lock } }

    /// Writes a run's record (atomically) and remembers it as the one a signal must mark failed.
    static func write(_ record: RunRecord, to directory: String) throws {
        try current.withLock { c in
            try record.write(to: directory)
            c.record = record
            c.directory = directory
        }
    }

    /// The run has ended: a signal now only ends the process.
    static func ended() { current.withLock { $0 = Current() } }
}
