import Foundation
import RamkollModel
import RamkollReaders

/// What `ramkoll check` looks at beyond the pipeline file and its tables, so that it does not
/// call "ok" what `run` would then refuse or get wrong: the pseudonym key (set, readable, long
/// enough), each present input against its profile (a ledger's header line, with a hint when it
/// looks separated by another character; an XML extract's field paths against its first
/// records), and each budget-frame line's unit, report line and amounts. Reads only the start of
/// each export (its header, its first records) and the budget files, which are small.
public enum Preflight {
    /// Records of an XML extract whose field paths are tried.
    static let sampleRecords = 20

    public static func inputs(_ cfg: PipelineConfig, _ maps: MappingTables) -> [Diagnostic] {
        var d: [Diagnostic] = []
        let pipelineFile = cfg.diagnosticName(cfg.file)
        if cfg.sources.contains(where: { $0.profile.hasPersons }) {
            do { _ = try Pseudonymizer.load(cfg.pseudonymKey) } catch let e as RamkollError {
                d.append(Diagnostic(.error, file: pipelineFile, line: nil, field: "pseudonym_key", e.message))
            } catch {}
        }
        for s in cfg.sources where FileIO.exists(s.path) {
            let shown = cfg.diagnosticName(s.path)
            d += s.profile.preflight(s, shown: shown)
        }
        // A budget line run would reject: an error when any lost budget line is a data error (the
        // default), a warning when the pipeline allows a share (settings.budget_reject_limit_percent).
        let budgetSeverity: Diagnostic.Severity = cfg.budgetRejectLimit == 0 ? .error : .warning
        for b in cfg.budgets where b.profile == nil && FileIO.exists(b.path) {
            let shown = cfg.diagnosticName(b.path)
            do {
                _ = try BudgetReader.read(
                    path: b.path, display: shown, fiscalYear: cfg.fiscalYear, mappings: maps, emit: { _, _ in },
                    reject: { ref, field, raw, reason in
                        d.append(Diagnostic(budgetSeverity, file: shown, line: ref.line, field: field, rawValue: raw, "budget: \(reason)"))
                    })
            } catch let e as RamkollError {
                d.append(located(e.message, file: shown, prefix: "budget: "))
            } catch { d.append(Diagnostic(.error, file: shown, line: nil, "budget: \(error)")) }
        }
        return d
    }

    /// A message that begins `file:line: ` as a diagnostic at that place.
    static func located(_ message: String, file: String, prefix: String) -> Diagnostic {
        var rest = Substring(message)
        var line: Int?
        if rest.hasPrefix(file + ":") {
            rest = rest.dropFirst(file.count + 1)
            let digits = rest.prefix { $0.isNumber }
            if !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix(": ") {
                line = Int(digits)
                rest = rest.dropFirst(digits.count + 2)
            } else if rest.hasPrefix(" ") {
                rest = rest.dropFirst()
            }
        }
        return Diagnostic(.error, file: file, line: line, prefix + String(rest))
    }

    /// Each required field's path must give a value in at least one of the extract's first records
    /// (a path that matches nothing makes the run reject every record).
    static func fieldPaths(
        _ s: PipelineConfig.Source, shown: String, record: String, profile: String, paths: [(field: String, path: String)]
    ) -> [Diagnostic] {
        var records: [XMLRecord] = []
        do {
            let reader = try XMLRecordReader(path: s.path, recordElement: record, fieldPaths: paths.map(\.path))
            while records.count < sampleRecords, let r = try reader.next() { records.append(r) }
        } catch let e as ReaderError {
            return [Diagnostic(.error, file: shown, line: e.line, "source \(s.id): \(e.message)")]
        } catch {
            return [Diagnostic(.error, file: shown, line: nil, "source \(s.id): \(error)")]
        }
        guard !records.isEmpty else {
            return [
                Diagnostic(.error, file: shown, line: nil, "source \(s.id): no <\(record)> record in the extract; check record in profile \(profile)")
            ]
        }
        var d: [Diagnostic] = []
        for (field, path) in paths.sorted(by: { $0.field < $1.field })
        where !records.contains(where: { !($0.first(path) ?? "").isEmpty }) {
            d.append(
                Diagnostic(
                    .error, file: shown, line: records[0].line, field: field, rawValue: path,
                    "source \(s.id): \(field) (path \(path)) has no value in the first \(records.count) <\(record)> records; the run would reject every record — check the path in profile \(profile)"
                ))
        }
        return d
    }
}
