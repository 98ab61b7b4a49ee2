/// Text encodings SIE files arrive in. The spec says CP437 (`#FORMAT PC8`), but real exports are
/// often UTF-8 or Latin-1 (reference notes §1.7): Ramkoll detects instead of trusting the label.
public enum SIEEncoding: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case cp437 = "cp437"
    case latin1 = "iso-8859-1"

    /// CP437 0x80–0xFF.
    static let cp437High: [UInt32] = [
        0xC7, 0xFC, 0xE9, 0xE2, 0xE4, 0xE0, 0xE5, 0xE7, 0xEA, 0xEB, 0xE8, 0xEF, 0xEE, 0xEC, 0xC4, 0xC5,
        0xC9, 0xE6, 0xC6, 0xF4, 0xF6, 0xF2, 0xFB, 0xF9, 0xFF, 0xD6, 0xDC, 0xA2, 0xA3, 0xA5, 0x20A7, 0x192,
        0xE1, 0xED, 0xF3, 0xFA, 0xF1, 0xD1, 0xAA, 0xBA, 0xBF, 0x2310, 0xAC, 0xBD, 0xBC, 0xA1, 0xAB, 0xBB,
        0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
        0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F, 0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
        0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B, 0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
        0x3B1, 0xDF, 0x393, 0x3C0, 0x3A3, 0x3C3, 0xB5, 0x3C4, 0x3A6, 0x398, 0x3A9, 0x3B4, 0x221E, 0x3C6, 0x3B5, 0x2229,
        0x2261, 0xB1, 0x2265, 0x2264, 0x2320, 0x2321, 0xF7, 0x2248, 0xB0, 0x2219, 0xB7, 0x221A, 0x207F, 0xB2, 0x25A0, 0xA0,
    ]

    /// Unicode scalar → CP437 byte, for 0x80–0xFF.
    static let cp437ByScalar: [UInt32: UInt8] = Dictionary(
        uniqueKeysWithValues: cp437High.enumerated().map { ($0.element, UInt8(0x80 + $0.offset)) })

    /// The CP437 bytes of `bytes` read in `encoding` (SIE 4B §10.14 sums these): ASCII as it is,
    /// other characters by CP437's table, a character CP437 lacks as "?".
    static func cp437Bytes(of bytes: [UInt8], in encoding: SIEEncoding, into out: inout [UInt8]) {
        if encoding == .cp437 || !bytes.contains(where: { $0 >= 0x80 }) { return out.append(contentsOf: bytes) }
        guard let text = encoding.decode(bytes) else { return out.append(contentsOf: bytes) }
        for u in text.unicodeScalars {
            out.append(u.value < 0x80 ? UInt8(u.value) : cp437ByScalar[u.value] ?? UInt8(ascii: "?"))
        }
    }

    public func decode<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        switch self {
        case .utf8:
            return TextEncoding.utf8.decode(bytes)
        case .latin1:
            return TextEncoding.latin1.decode(bytes)
        case .cp437:
            var s = String.UnicodeScalarView()
            for b in bytes {
                s.append(b < 0x80 ? Unicode.Scalar(b) : Unicode.Scalar(SIEEncoding.cp437High[Int(b - 0x80)])!)
            }
            return String(s)
        }
    }

    /// Whether a decoded non-ASCII character is what a Swedish ledger plausibly holds: a Latin
    /// letter or common punctuation. Box drawing, Greek letters and C1 controls are the signs of a
    /// wrong decoding (Latin-1 å read as CP437 is σ; CP437 ä read as Latin-1 is a control).
    public static func isPlausible(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        if v < 0x80 { return true }
        if (0xC0...0x24F).contains(v) && v != 0xD7 && v != 0xF7 { return true }  // Latin letters
        return "§°±²³µ·½¼¾«»¡¿€–—‘’“”•…™©®¢£¥¤\u{A0}".unicodeScalars.contains(u)
    }
}

/// Decides a file's encoding from all its bytes: UTF-8 if it is valid UTF-8, else the single-byte
/// encoding (CP437 first, as the spec says, then Latin-1) under which every non-ASCII byte decodes
/// to a plausible character. When none does, it names the first line where the best one fails.
///
/// Records that carry no figure — the company's names and addresses (`#FNR`, `#FNAMN`, `#ADRESS`),
/// account and object names, program and format labels — do not decide alone: Visma/SPCS writes
/// the company folder path in `#FNR` in Latin-1 inside a CP437 file, BL once wrote one Latin-1
/// byte in an `#OBJEKT` name. The encoding is the one the figure-carrying records (vouchers,
/// balances, budgets) read plausibly in; only when they hold no letters beyond ASCII do the
/// descriptive records choose. A descriptive record that does not read plausibly in the chosen
/// encoding is named in `descriptiveOddities` (the reader reads it as it stands and warns).
public struct SIEEncodingDetector {
    private var utf8Valid = true
    private var sawHigh = false
    private var pending: [UInt8] = []  // an incomplete UTF-8 sequence across chunks
    /// Where each single-byte encoding first fails, in the records that carry figures.
    private var firstBad: [SIEEncoding: (line: Int, byte: UInt8)] = [:]
    private var sawHighInFigures = false
    /// Descriptive records that do not read plausibly, per encoding (the first of each line; at
    /// most `oddityLimit` kept, all counted).
    private var oddities: [SIEEncoding: [Oddity]] = [:]
    private var odditiesCounted: [SIEEncoding: Int] = [:]
    private var line = 1
    public private(set) var replacementCharacterLines: [Int] = []
    static let oddityLimit = 100

    /// A byte of a descriptive record that is not plausible text in an encoding.
    public struct Oddity: Equatable, Sendable {
        public let line: Int
        /// The record's label, with `#`.
        public let label: String
        public let byte: UInt8
    }

    /// Labels of records that carry no figure (SIE 4B §8–9: identification and chart records).
    public static let descriptiveLabels: Set<String> = [
        "#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#SIETYP", "#PROSA", "#FTYP", "#FNR", "#ORGNR", "#BKOD", "#ADRESS", "#FNAMN",
        "#TAXAR", "#OMFATTN", "#KPTYP", "#VALUTA", "#KONTO", "#KTYP", "#ENHET", "#SRU", "#DIM", "#UNDERDIM", "#OBJEKT",
    ]

    /// The label of the line being read (up to 16 bytes), and whether it is complete.
    private var label: [UInt8] = []
    private var labelState = LabelState.start
    private enum LabelState { case start, inLabel, done }
    private var lineIsDescriptive = false
    private var lineOdd: Set<SIEEncoding> = []

    public init() {}

    /// Complete multi-byte UTF-8 sequences seen, and where the first byte that breaks UTF-8 is.
    private var utf8Sequences = 0
    private var firstInvalid: (line: Int, offset: Int, byte: UInt8)?
    private var offset = 0
    private var firstNUL: (line: Int, offset: Int)?

    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>) {
        for b in chunk {
            track(b)
            if b == 0x0A { line += 1 }
            if b == 0, firstNUL == nil { firstNUL = (line, offset) }
            if b >= 0x80 {
                sawHigh = true
                if lineIsDescriptive {
                    for enc in [SIEEncoding.cp437, .latin1] where !lineOdd.contains(enc) {
                        let s = enc.decode(CollectionOfOne(b))!.unicodeScalars.first!
                        if !SIEEncoding.isPlausible(s) {
                            lineOdd.insert(enc)
                            odditiesCounted[enc, default: 0] += 1
                            if oddities[enc, default: []].count < Self.oddityLimit {
                                oddities[enc, default: []].append(Oddity(line: line, label: String(decoding: label, as: UTF8.self), byte: b))
                            }
                        }
                    }
                } else {
                    sawHighInFigures = true
                    for enc in [SIEEncoding.cp437, .latin1] where firstBad[enc] == nil {
                        let s = enc.decode(CollectionOfOne(b))!.unicodeScalars.first!
                        if !SIEEncoding.isPlausible(s) { firstBad[enc] = (line, b) }
                    }
                }
            }
            feedUTF8(b)
            offset += 1
        }
    }

    /// Follows the label at the start of each line: leading blanks, then `#` and letters up to
    /// the first blank. A byte beyond ASCII comes after the label, so the line's kind is known.
    private mutating func track(_ b: UInt8) {
        if b == 0x0A {
            labelState = .start; label.removeAll(keepingCapacity: true); lineIsDescriptive = false; lineOdd.removeAll()
            return
        }
        switch labelState {
        case .start:
            if b == 0x20 || b == 0x09 { return }
            if b == UInt8(ascii: "#") { label = [b]; labelState = .inLabel } else { labelState = .done }
        case .inLabel:
            if b == 0x20 || b == 0x09 || b == 0x0D || b >= 0x80 || label.count >= 16 {
                labelState = .done
                lineIsDescriptive = Self.descriptiveLabels.contains(String(decoding: label, as: UTF8.self).uppercased())
            } else {
                label.append(b)
            }
        case .done:
            return
        }
    }

    /// Follows UTF-8 through the whole file (after a broken sequence it starts again), so a UTF-8
    /// file with one bad byte is told from a single-byte file.
    private mutating func feedUTF8(_ b: UInt8) {
        func invalid(_ at: Int, _ byte: UInt8) {
            utf8Valid = false
            if firstInvalid == nil { firstInvalid = (line, at, byte) }
        }
        if !pending.isEmpty && b & 0xC0 != 0x80 {
            invalid(offset - pending.count, pending[0])
            pending.removeAll()
        }
        if pending.isEmpty {
            if b < 0x80 { return }
            guard (0xC2...0xF4).contains(b) else { return invalid(offset, b) }
            pending.append(b)
            return
        }
        pending.append(b)
        let need: Int
        switch pending[0] {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        default: need = 4
        }
        if pending.count == need {
            if TextEncoding.isValidUTF8(pending) {
                utf8Sequences += 1
                if pending == [0xEF, 0xBF, 0xBD] { replacementCharacterLines.append(line) }
            } else {
                invalid(offset - need + 1, pending[0])
            }
            pending.removeAll()
        }
    }

    public enum Verdict: Equatable, Sendable {
        case encoding(SIEEncoding)
        /// No encoding decodes every byte plausibly: line and byte where CP437 first fails.
        case undecidable(line: Int, byte: UInt8, cp437: String, latin1: String)
        /// UTF-8 (it holds valid multi-byte sequences) with a byte that breaks it: line, byte
        /// offset from the start of the file, and the byte.
        case brokenUTF8(line: Int, offset: Int, byte: UInt8)
        /// A NUL byte: no SIE file has one.
        case nul(line: Int, offset: Int)
    }

    public func verdict() -> Verdict {
        if let z = firstNUL { return .nul(line: z.line, offset: z.offset) }
        if !sawHigh { return .encoding(.cp437) }  // pure ASCII: every reading agrees
        if utf8Valid && pending.isEmpty { return .encoding(.utf8) }
        // Å, ä and ö of a single-byte file never make valid UTF-8 sequences: a file that has them
        // and a broken one is UTF-8 damaged, which read as Latin-1 would garble every letter.
        if utf8Sequences > 0, let bad = firstInvalid ?? (pending.isEmpty ? nil : (line, offset - pending.count, pending[0])) {
            return .brokenUTF8(line: bad.line, offset: bad.offset, byte: bad.byte)
        }
        if sawHighInFigures {
            if firstBad[.cp437] == nil { return .encoding(.cp437) }
            if firstBad[.latin1] == nil { return .encoding(.latin1) }
        } else {
            // Only descriptive records hold letters beyond ASCII: they choose, CP437 first; when
            // neither reads them all, the spec's CP437 (their oddities are warned, no figure is touched).
            if odditiesCounted[.cp437, default: 0] > 0 && odditiesCounted[.latin1, default: 0] == 0 { return .encoding(.latin1) }
            return .encoding(.cp437)
        }
        let bad = firstBad[.cp437]!
        return .undecidable(
            line: bad.line, byte: bad.byte, cp437: SIEEncoding.cp437.decode([bad.byte])!, latin1: SIEEncoding.latin1.decode([bad.byte])!)
    }

    /// The descriptive records that do not read plausibly in `encoding` (at most `oddityLimit`),
    /// and how many there are in all.
    public func descriptiveOddities(in encoding: SIEEncoding) -> (first: [Oddity], count: Int) {
        encoding == .utf8 ? ([], 0) : (oddities[encoding] ?? [], odditiesCounted[encoding] ?? 0)
    }
}
