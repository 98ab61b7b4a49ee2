#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole file in 1 MiB chunks through one reused buffer: what the checks that look at every
/// byte (hashes, encoding checks, SIE checksums, the XML prolog) read it with.
public enum FileChunks {
    public static func read(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        try readWhile(path) { try body($0); return true }
    }

    /// The same, stopping when `body` returns false (a scan of the start of a big file).
    public static func readWhile(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Bool) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ReaderError(file: path, line: nil, "cannot open file (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            #if canImport(Glibc)
                let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            #else
                let n = buf.withUnsafeMutableBytes { Darwin.read(fd, $0.baseAddress, $0.count) }
            #endif
            if n < 0 {
                if errno == EINTR { continue }
                throw ReaderError(file: path, line: nil, "read failed (\(String(cString: strerror(errno))))")
            }
            if n == 0 { break }
            if try !buf.withUnsafeBufferPointer({ try body(UnsafeBufferPointer(rebasing: $0[0..<n])) }) { break }
        }
    }
}
