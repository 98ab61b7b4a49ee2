// Shared by every fuzz target (copied beside each target's file by Scripts/fuzz).
import Foundation

/// The input as a file (the readers read files, as Ramkoll does): one per process, rewritten.
enum FuzzFile {
    static let path: String = {
        let p = NSTemporaryDirectory() + "ramkoll-fuzz-\(getpid())"
        return p
    }()
    static func write(_ data: UnsafePointer<UInt8>, _ size: Int, suffix: String = "") -> String {
        let p = path + suffix
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var done = 0
        while done < size {
            let n = Foundation.write(fd, data + done, size - done)
            if n <= 0 { break }
            done += n
        }
        close(fd)
        return p
    }
}
