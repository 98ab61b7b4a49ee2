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
    func mapping(_ n: Node?, context: String, allowed: Set<String>?) -> [String: Node] {
        guard let n else { return [:] }
        guard let m = n.mapping else {
            error(n, "\(context) must be a mapping of keys to values")
            return [:]
        }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else { error(k, "\(context): keys must be plain text"); continue }
            if let allowed, !allowed.contains(key) {
                warning(k, "\(context): unknown key \"\(key)\" is ignored; known keys are \(allowed.sorted().joined(separator: ", "))", key: key)
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
