import Foundation
import RamkollModel

/// Closed months stay closed: a nightly export is the year to date, so each night's file repeats
/// the months closed before. After the stages, a sealed run compares its ledger's rows and öre per
/// source × month (from `02-normalize/ledger_groups.csv`) with the period's previous good run,
/// for every month before the as-of month. A closed month that changed or vanished is named —
/// a warning, or with `settings.closed_months: locked` a data error. The comparison reads two
/// sealed runs and writes nothing into either: it is the run's record (`run.json`), not a stage
/// output, so no stage's outputs depend on another run.
public enum ClosedMonths {
    public struct Total: Equatable, Sendable {
        public var rows: Int64
        public var amount: Ore
    }

    /// source → period → rows and öre (ledger sign), from a run's ledger groups.
    static func totals(ofRun dir: String) throws -> [String: [Period: Total]] {
        var out: [String: [Period: Total]] = [:]
        try TableReader(path: dir + "/02-normalize/ledger_groups.csv", required: ["source", "period", "rows", "amount_ore"]).forEach { row in
            let p = try row.period("period")
            var t = out[row["source"], default: [:]][p] ?? Total(rows: 0, amount: .zero)
            t.rows += try row.int("rows")
            t.amount += Ore(try row.int("amount_ore"))
            out[row["source"], default: [:]][p] = t
        }
        return out
    }

    /// What changed in the months before `asOf` between an earlier and a later run, one line each.
    public static func changes(
        from earlier: [String: [Period: Total]], to later: [String: [Period: Total]], asOf: Period, earlierRun: String
    ) -> [String] {
        var out: [String] = []
        for source in earlier.keys.sorted() {
            for (period, was) in earlier[source]!.sorted(by: { $0.key < $1.key }) where period < asOf {
                guard let now = later[source]?[period] else {
                    out.append(
                        "closed month \(period) of source \(source) vanished since run \(earlierRun): it held \(was.rows) rows, \(was.amount.swedish) kr"
                    )
                    continue
                }
                if now != was {
                    out.append(
                        "closed month \(period) of source \(source) changed since run \(earlierRun): \(was.rows) rows, \(was.amount.swedish) kr → \(now.rows) rows, \(now.amount.swedish) kr (difference \((now.amount - was.amount).swedish) kr)"
                    )
                }
            }
        }
        return out
    }

    /// The comparison of a new run with the period's newest good run before it (nil: none to compare with).
    static func check(run dir: String, id: String, store: RunStore, asOf: Period) throws -> [String]? {
        guard
            let earlier = store.runs(asOf: asOf).reversed().first(where: { other in
                other != id && (RunRecord.read(from: store.directory(of: other))?.isGood ?? false)
            })
        else { return nil }
        let earlierDir = store.directory(of: earlier)
        let a = earlierDir + "/02-normalize/ledger_groups.csv", b = dir + "/02-normalize/ledger_groups.csv"
        guard FileIO.exists(a), FileIO.exists(b) else { return nil }
        if try FileIO.sha256(ofFile: a).hex == FileIO.sha256(ofFile: b).hex { return [] }
        return changes(from: try totals(ofRun: earlierDir), to: try totals(ofRun: dir), asOf: asOf, earlierRun: earlier)
    }
}
