import Foundation

/// Which build of Ramkoll is running: the release number in the source, and the identity of this
/// very executable. Manifests and run records carry both, and a stage's outputs are reused only
/// by the build that made them (an upgrade that reads rows differently never inherits old files).
///
/// The identity is the executable's GNU build ID (the linker's hash of what it linked, in the
/// `.note.gnu.build-id` note: the same sources and toolchain give the same ID, any change another),
/// read from the program headers of `/proc/self/exe` — a few hundred bytes, not the whole file.
/// Where there is no such note, it is the SHA-256 of the executable.
public enum RamkollVersion {
    /// The release number, raised by hand when a release is cut.
    public static let string = "0.1.0"

    /// `gnu-build-id:<hex>` or `sha256:<hex>` (`unknown` when neither can be read).
    public static let build: String = {
        let exe = "/proc/self/exe"
        if let id = BuildIdentity.gnuBuildID(ofExecutable: exe) { return "gnu-build-id:" + id }
        let path = FileIO.exists(exe) ? exe : CommandLine.arguments.first ?? ""
        if let h = try? FileIO.computeSHA256(ofFile: path) { return "sha256:" + h.hex }
        return "unknown"
    }()

    /// What `ramkoll --version` prints.
    public static var description: String { "\(string) (build \(build))" }
}

enum BuildIdentity {
    /// The NT_GNU_BUILD_ID note of a 64-bit little-endian ELF file, as lowercase hex.
    static func gnuBuildID(ofExecutable path: String) -> String? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard count > 0, count <= 1 << 20, (try? file.seek(toOffset: offset)) != nil,
                let d = try? file.read(upToCount: count), d.count == count
            else { return nil }
            return [UInt8](d)
        }
        func u16(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ b: [UInt8], _ o: Int) -> Int { u16(b, o) | u16(b, o + 2) << 16 }
        func u64(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(u32(b, o)) | UInt64(u32(b, o + 4)) << 32 }
        // ELF header: magic, class 2 (64-bit), data 1 (little-endian).
        guard let h = read(0, 64), h[0] == 0x7F, h[1] == 0x45, h[2] == 0x4C, h[3] == 0x46, h[4] == 2, h[5] == 1 else { return nil }
        let phoff = u64(h, 32), phentsize = u16(h, 54), phnum = u16(h, 56)
        guard phentsize >= 56, phnum > 0, phnum < 256, let ph = read(phoff, phentsize * phnum) else { return nil }
        for i in 0..<phnum {
            let p = i * phentsize
            guard u32(ph, p) == 4 else { continue }  // PT_NOTE
            let offset = u64(ph, p + 8), size = u64(ph, p + 32)
            guard size <= 1 << 16, let notes = read(offset, Int(size)) else { continue }
            var o = 0
            while o + 12 <= notes.count {
                let namesz = u32(notes, o), descsz = u32(notes, o + 4), type = u32(notes, o + 8)
                let name = o + 12, desc = name + (namesz + 3) & ~3
                guard desc + descsz <= notes.count else { break }
                if type == 3, namesz == 4, notes[name..<name + 3] == [0x47, 0x4E, 0x55], descsz > 0 {  // "GNU", NT_GNU_BUILD_ID
                    return FileIO.hex(notes[desc..<desc + descsz])
                }
                o = desc + (descsz + 3) & ~3
            }
        }
        return nil
    }
}
