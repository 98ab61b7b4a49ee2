import RamkollModel
import Yams

/// Reads YAML nodes while collecting diagnostics that name the file and line of every problem.
final class YAMLReader {
    let file: String
    var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func parse(_ text: String) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let e as YamlError {
            error(nil, "YAML cannot be read: \(e)")
        } catch {
            self.error(nil, "YAML cannot be read: \(error)")
        }
        return nil
    }

    func line(_ n: Node?) -> Int? { n?.mark?.line }

    func error(_ n: Node?, _ message: String, key: String? = nil) {
        diagnostics.append(Diagnostic(.error, file: file, line: line(n), field: key, message))
    }

    func warning(_ n: Node?, _ message: String, key: String? = nil) {
        diagnostics.append(Diagnostic(.warning, file: file, line: line(n), field: key, message))
    }

    /// The mapping's entries; flags keys not in `allowed` (a typo should not be silently ignored).
    /// A mapping's entries; `allowed` nil accepts any key (e.g. report-line ids).
    /// The known key nearest to a misspelt one (edit distance at most a third of its length, and 1 at least).
    static func nearest(_ key: String, in known: Set<String>) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var previous = row[0]
                row[0] = i + 1
                for (j, cb) in b.enumerated() {
                    let current = row[j + 1]
                    row[j + 1] = min(row[j + 1] + 1, row[j] + 1, previous + (ca == cb ? 0 : 1))
                    previous = current
                }
            }
            return row[b.count]
        }
        let k = Array(key.lowercased())
        let best = known.map { ($0, distance(k, Array($0))) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best, best.1 <= max(1, key.count / 3) else { return nil }
        return best.0
    }

    /// A mapping's keys. A key not in `allowed` is a warning, or with `unknownIsError` an error
    /// (a misspelt setting would silently keep its default), with the nearest known key.
    func mapping(_ n: Node?, context: String, allowed: Set<String>?, unknownIsError: Bool = false) -> [String: Node] {
        guard let n else { return [:] }
        guard let m = n.mapping else {
            error(n, "\(context) must be a mapping of keys to values")
            return [:]
        }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else { error(k, "\(context): keys must be plain text"); continue }
            if let allowed, !allowed.contains(key) {
                let hint = Self.nearest(key, in: allowed).map { "did you mean \"\($0)\"? " } ?? ""
                if unknownIsError {
                    error(
                        k,
                        "\(context): unknown key \"\(key)\"; \(hint)a misspelt setting would keep its default unnoticed; known keys are \(allowed.sorted().joined(separator: ", "))",
                        key: key)
                } else {
                    warning(
                        k, "\(context): unknown key \"\(key)\" is ignored; \(hint)known keys are \(allowed.sorted().joined(separator: ", "))",
                        key: key)
                }
            }
            out[key] = v
        }
        return out
    }

    func string(_ m: [String: Node], _ key: String, context: String, required: Bool, parent: Node?) -> String? {
        guard let n = m[key] else {
            if required { error(parent, "\(context): \"\(key)\" is missing", key: key) }
            return nil
        }
        guard let s = n.string else {
            error(n, "\(context): \"\(key)\" must be a single value", key: key)
            return nil
        }
        return s
    }
}
