import Crypto
import Foundation
import RamkollModel

/// Personnummer handling: validation, keyed pseudonyms, and redaction of anything
/// that looks like one in free text. A personnummer never reaches an output, a log or a message.
public struct IdentityFailure: Error, Sendable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
}

public enum PersonalIdentity {
    /// Canonical 12-character form `YYYYMMDDNNNC` (or `YYYYMMDDTNNN` for IVO-style placeholders),
    /// or nil with a reason that does not repeat the number.
    public static func canonical(_ raw: String, referenceYear: Int) -> Result<String, IdentityFailure> {
        var s = Array(raw.utf8.filter { $0 != 0x20 })
        var plus = false
        if s.count == 13 || s.count == 11 {
            let sep = s[s.count - 5]
            if sep == UInt8(ascii: "-") || sep == UInt8(ascii: "+") { plus = sep == UInt8(ascii: "+"); s.remove(at: s.count - 5) }
        }
        if s.count == 10 {
            // Short form: century from the reference year (the business date, never the clock).
            guard let yy = Int(String(decoding: s[0..<2], as: UTF8.self)) else {
                return .failure(IdentityFailure("personal identity number has a malformed date part"))
            }
            var century = referenceYear / 100 * 100
            if century + yy > referenceYear { century -= 100 }
            if plus { century -= 100 }
            s = Array(String(century / 100).utf8) + s
        }
        guard s.count == 12 else { return .failure(IdentityFailure("personal identity number must have 10 or 12 digits")) }
        let datePart = s[0..<8]
        guard datePart.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            return .failure(IdentityFailure("personal identity number has a malformed date part"))
        }
        let y = Int(String(decoding: s[0..<4], as: UTF8.self))!, m = Int(String(decoding: s[4..<6], as: UTF8.self))!
        var d = Int(String(decoding: s[6..<8], as: UTF8.self))!
        if d > 60 { d -= 60 }  // samordningsnummer
        guard Day(year: y, month: m, day: d) != nil else {
            return .failure(IdentityFailure("personal identity number has a date that does not exist"))
        }
        // IVO-style placeholder: a letter where the serial starts, e.g. YYYYMMDD-T123.
        if let letter = Optional(s[8]), (65...90).contains(letter) {
            guard s[9...].allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                return .failure(IdentityFailure("placeholder number must be a letter and three digits"))
            }
            return .success(String(decoding: s, as: UTF8.self))
        }
        guard s[8...].allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            return .failure(IdentityFailure("personal identity number has non-digits in its serial part"))
        }
        if s[8] == 48 && s[9] == 48 && s[10] == 48 {
            return .failure(IdentityFailure("personal identity number has serial 000, which is never issued"))
        }
        // Luhn over YYMMDDNNN.
        var sum = 0
        for (i, b) in s[2..<11].enumerated() {
            var v = Int(b - 48) * (i % 2 == 0 ? 2 : 1)
            if v > 9 { v -= 9 }
            sum += v
        }
        guard (10 - sum % 10) % 10 == Int(s[11] - 48) else { return .failure(IdentityFailure("personal identity number fails its check digit")) }
        return .success(String(decoding: s, as: UTF8.self))
    }

    /// Replaces anything shaped like a personnummer in free text by "[pnr]": 6 or 8 date digits
    /// (a real month, a day 01–31 or 61–91 for samordningsnummer), optionally `-` or `+`, then 4
    /// characters (digits, or a letter and 3 digits for an IVO placeholder). The check digit is not
    /// required: a mistyped number is personal data too. Used on every text and raw value written.
    public static func redact(_ text: String) -> String {
        let u = Array(text.utf8)
        guard u.count >= 10 else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        u.withUnsafeBufferPointer { redact(utf8: $0, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The same on UTF-8 bytes, appended to `out` (the ledger's byte-level path).
    public static func redact(utf8 u: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard u.count >= 10 else { out.append(contentsOf: u); return }
        func isDigit(_ k: Int) -> Bool { k < u.count && u[k] >= 48 && u[k] <= 57 }
        func num(_ k: Int, _ n: Int) -> Int { (k..<(k + n)).reduce(0) { $0 * 10 + Int(u[$1] - 48) } }
        /// Whether the 6 or 8 digits at k form a plausible birth date.
        func plausibleDate(_ k: Int, _ width: Int) -> Bool {
            let off = width == 8 ? 2 : 0
            if width == 8 { let c = num(k, 2); guard c == 18 || c == 19 || c == 20 else { return false } }
            let month = num(k + off + 2, 2), day = num(k + off + 4, 2)
            return (1...12).contains(month) && ((1...31).contains(day) || (61...91).contains(day))
        }
        var i = 0
        while i < u.count {
            if isDigit(i) && (i == 0 || !isDigit(i - 1)) {
                var j = i
                while isDigit(j) { j += 1 }
                let run = j - i
                var end = -1
                if (run == 10 || run == 12) && plausibleDate(i, run - 4) {
                    end = j
                } else if (run == 6 || run == 8), plausibleDate(i, run), j < u.count, u[j] == UInt8(ascii: "-") || u[j] == UInt8(ascii: "+") {
                    var k = j + 1
                    if k < u.count, (65...90).contains(u[k]) { k += 1 }  // placeholder letter (T123)
                    while isDigit(k) { k += 1 }
                    if k - j - 1 == 4 && !isDigit(k) { end = k }
                }
                if end > 0 {
                    out.append(contentsOf: "[pnr]".utf8); i = end; continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: u[i..<j])); i = j; continue
            }
            out.append(u[i]); i += 1
        }
    }
}

/// Keyed pseudonyms: HMAC-SHA256 of the canonical number under the site's secret key.
public struct Pseudonymizer: @unchecked Sendable {
    /// The keyed HMAC state, set up once (copied for each number: HMAC is a value).
    private let keyed: HMAC<SHA256>

    public init(keyData: Data) { keyed = HMAC<SHA256>(key: SymmetricKey(data: keyData)) }

    public static func load(_ source: PipelineConfig.KeySource?, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Pseudonymizer
    {
        switch source {
        case .none:
            throw RamkollError(
                .config,
                "the pipeline reads case-system data but names no pseudonym_key; add pseudonym_key: {env: VARIABLE} or {file: PATH} — Ramkoll will not start without one"
            )
        case .file(let p)?:
            guard let d = FileManager.default.contents(atPath: p) else {
                throw RamkollError(
                    .config, "pseudonym key file \(p) cannot be read; create it (e.g. head -c 32 /dev/urandom | base64 > FILE) and keep it secret")
            }
            let trimmed = Data(String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            guard trimmed.count >= 16 else { throw RamkollError(.config, "pseudonym key file \(p) holds fewer than 16 bytes; use a long random key") }
            return Pseudonymizer(keyData: trimmed)
        case .environment(let name)?:
            guard let v = environment[name], v.utf8.count >= 16 else {
                throw RamkollError(
                    .config, "environment variable \(name) (the pseudonym key) is not set or shorter than 16 bytes; Ramkoll will not start without it"
                )
            }
            return Pseudonymizer(keyData: Data(v.utf8))
        }
    }

    /// `p-` and the first 20 hex digits of HMAC-SHA256(key, canonical number).
    public func pseudonym(_ canonical: String) -> String {
        var h = keyed
        var c = canonical
        c.withUTF8 { h.update(data: UnsafeRawBufferPointer($0)) }
        return "p-" + FileIO.hex(Array(h.finalize()).prefix(10))
    }
}
