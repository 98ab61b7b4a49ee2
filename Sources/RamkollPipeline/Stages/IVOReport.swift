import RamkollModel

/// The quarterly report of unexecuted favourable decisions (IVO; the annual report's "Ej verkställda beslut").
///
/// For a quarter with last day E, reported on date R:
/// 1. **not executed** — a favourable decision whose three months (decision date + 3 calendar
///    months) ran out on or before E, and that by R is neither executed nor ended;
/// 2. **interrupted** — an execution interrupted on I, where I + 3 months is on or before E, not
///    resumed and not ended by R;
/// 3. **executed or ended** — a decision reported in list 1 or 2 of an earlier quarter, executed,
///    resumed or ended since (on or before R), with that date; and a decision executed or ended
///    after its three months but before it was ever reported (it is reported at once, as such).
/// A decision in list 1 or 2 stays there, quarter after quarter, until it reaches list 3.
/// Earlier quarters are computed as if reported the same number of days after their quarter end
/// as the report being made, so the quarterly counts follow the same rules throughout.
enum IVOReport {
    enum List: String, CaseIterable {
        case notExecuted = "not-executed"
        case interrupted
        case executedOrEnded = "executed-or-ended"
    }

    struct Entry {
        let decision: Decision
        let list: List
        /// For list 3: the date of execution, resumption or end.
        let date: Day?
        /// For list 3: "verkställd", "återupptagen" or "avslutad".
        let outcome: String
    }

    struct QuarterReport {
        let quarter: Quarter
        let reportingDate: Day
        let entries: [Entry]
        func list(_ l: List) -> [Entry] { entries.filter { $0.list == l } }
    }

    /// Every quarter from the first in which anything is due through `last`, in order.
    static func quarters(_ decisions: [Decision], through last: Quarter, lagDays: Int) -> [QuarterReport] {
        let favourable = decisions.filter(\.favourable).sorted { ($0.decisionDate, $0.id) < ($1.decisionDate, $1.id) }
        guard let first = favourable.first else { return [] }
        var reported = Set<String>()  // in list 1 or 2 of an earlier quarter
        var closed = Set<String>()  // already in list 3
        var out: [QuarterReport] = []
        var q = Quarter(containing: first.decisionDate)
        var previousR: Day?
        while q <= last {
            let e = q.lastDay, r = e.addingDays(lagDays)
            var entries: [Entry] = []
            for d in favourable where !closed.contains(d.id) {
                func by(_ day: Day?) -> Bool { day.map { $0 <= r } ?? false }
                let deadline = d.decisionDate.addingMonths(3)
                let executedLate = d.executed.map { $0 > deadline } ?? false
                // List 2: an execution interrupted and not resumed within three months.
                if let i = d.interrupted, i.addingMonths(3) <= e, !by(d.resumed), !by(d.ended) {
                    entries.append(Entry(decision: d, list: .interrupted, date: nil, outcome: ""))
                    continue
                }
                // List 1: not executed within three months of the decision.
                if deadline <= e, !by(d.executed), !by(d.ended) {
                    entries.append(Entry(decision: d, list: .notExecuted, date: nil, outcome: ""))
                    continue
                }
                // List 3: reported before and now executed, resumed or ended; or late and never reported.
                let done: (Day, String)? = {
                    if let x = d.ended, by(x) { return (x, "avslutad") }
                    if d.interrupted != nil, let x = d.resumed, by(x), reported.contains(d.id) { return (x, "återupptagen") }
                    if let x = d.executed, by(x) { return (x, "verkställd") }
                    return nil
                }()
                if let (date, outcome) = done {
                    let lateNeverReported =
                        !reported.contains(d.id) && deadline <= e && (executedLate || d.ended.map { $0 > deadline } ?? false)
                        && (previousR.map { date > $0 } ?? true)
                    if reported.contains(d.id) || lateNeverReported {
                        entries.append(Entry(decision: d, list: .executedOrEnded, date: date, outcome: outcome))
                    }
                }
            }
            // List 1 and 2 by decision date; list 3 by the date of execution or end.
            entries.sort { a, b in
                if a.list != b.list { return List.allCases.firstIndex(of: a.list)! < List.allCases.firstIndex(of: b.list)! }
                let ka = a.date ?? a.decision.decisionDate, kb = b.date ?? b.decision.decisionDate
                return (ka, a.decision.decisionDate, a.decision.id) < (kb, b.decision.decisionDate, b.decision.id)
            }
            for en in entries {
                if en.list == .executedOrEnded { closed.insert(en.decision.id) } else { reported.insert(en.decision.id) }
            }
            out.append(QuarterReport(quarter: q, reportingDate: r, entries: entries))
            previousR = r
            q = q.next
        }
        return out
    }
}

extension IVOReport {
    static let categoryNames: [List: String] = [.notExecuted: "ej verkställda", .interrupted: "avbrutna"]
    /// The three lists, as the yearly summary names them.
    static let listNames = [
        "Gynnande beslut som ej verkställts inom tre månader från dagen för beslut",
        "Gynnande beslut som avbrutits och ej verkställts inom tre månader från dagen för avbrottet",
        "Beslut som tidigare rapporterats som ej verkställt och som nu verkställts eller avslutats",
    ]

    /// Reads decisions.csv and writes the report for the configured quarter (ivo_report.csv and
    /// ivo_report.txt), the counts per quarter over whole years (ivo_quarterly_counts.csv) and the
    /// counts per measure (ivo_statistics.csv).
    static func write(
        directory dir: String, decisionsPath: String, settings: PipelineConfig.IVOSettings?, banner: String = ""
    ) throws -> ([OutputRecord], [String: Int64]) {
        var decisions: [Decision] = []
        try TableReader(
            path: decisionsPath,
            required: [
                "decision_id", "person", "ansvar", "decision_date", "measure", "legal_basis", "favourable", "executed", "interrupted", "resumed",
                "ended", "reason",
            ]
        ).forEach { row in
            func day(_ k: String) throws -> Day? {
                if row[k].isEmpty { return nil }
                guard let d = Day(iso: row[k]) else {
                    throw RamkollError(.input, "\(decisionsPath):\(row.line): \(k) is not a date; rerun normalize")
                }
                return d
            }
            decisions.append(
                Decision(
                    source: SourceRef(file: row["file"], line: Int(row["line"]) ?? 0), id: row["decision_id"], person: row["person"],
                    ansvar: row["ansvar"],
                    decisionDate: try day("decision_date")!, measure: row["measure"], legalBasis: row["legal_basis"],
                    favourable: row["favourable"] == "yes",
                    executed: try day("executed"), interrupted: try day("interrupted"), resumed: try day("resumed"), ended: try day("ended"),
                    reason: row["reason"]))
        }
        let report = try TableWriter(
            directory: dir, name: "ivo_report.csv",
            header: [
                "quarter", "reporting_date", "list", "decision_id", "person", "ansvar", "decision_date", "measure", "legal_basis", "reason", "date",
                "outcome",
            ])
        let counts = try TableWriter(
            directory: dir, name: "ivo_quarterly_counts.csv", header: ["quarter", "not_executed", "interrupted", "executed_or_ended"])
        let stats = try TableWriter(directory: dir, name: "ivo_statistics.csv", header: ["quarter", "measure", "category", "count"])
        var text = ""
        var presented: [PresentedTable] = []
        var totals: [String: Int64] = ["decisions": Int64(decisions.count), "decisions.favourable": Int64(decisions.filter(\.favourable).count)]
        if let settings {
            let lag = settings.reportingDate.ordinal - settings.quarter.lastDay.ordinal
            let quarters = quarters(decisions, through: settings.quarter, lagDays: lag)
            if let this = quarters.last, this.quarter == settings.quarter {
                for l in List.allCases {
                    for e in this.list(l) {
                        let d = e.decision
                        try report.write([
                            this.quarter.description, this.reportingDate.description, l.rawValue, d.id, d.person, d.ansvar,
                            d.decisionDate.description, d.measure,
                            d.legalBasis, d.reason, e.date?.description ?? "", e.outcome,
                        ])
                    }
                    totals["report.\(l.rawValue)"] = Int64(this.list(l).count)
                }
                text = humanReport(this)
                presented = humanTables(this).tables
            }
            // Whole years, from the first year in which anything was reported.
            let firstYear = quarters.first { !$0.entries.isEmpty }?.quarter.year ?? settings.quarter.year
            // For the workbook and the HTML, as the annual report sets them out: the report year's statistics
            // (type of decision × quarter, "1 st") and each year's counts of the three lists.
            let year = settings.quarter.year
            var statRows: [(quarter: Int, order: Int, label: String, counts: [Int: Int])] = []
            var perYear: [Int: [[String]]] = [:]
            for q in quarters where q.quarter.year >= firstYear {
                try counts.write([
                    q.quarter.description, String(q.list(.notExecuted).count), String(q.list(.interrupted).count),
                    String(q.list(.executedOrEnded).count),
                ])
                var byKey: [String: Int] = [:]
                for e in q.entries {
                    let category = e.list == .executedOrEnded ? (e.outcome == "avslutad" ? "avslutad" : "verkställda") : categoryNames[e.list]!
                    byKey["\(e.decision.measure)\u{1F}\(category)", default: 0] += 1
                }
                for (k, n) in byKey.sorted(by: { $0.key < $1.key }) {
                    let parts = k.split(separator: "\u{1F}").map(String.init)
                    try stats.write([q.quarter.description, parts[0], parts[1], String(n)])
                    guard q.quarter.year == year else { continue }
                    let label = parts[0] + ", " + parts[1]
                    if let i = statRows.firstIndex(where: { $0.label == label }) {
                        statRows[i].counts[q.quarter.number] = n
                    } else {
                        let order = ["ej verkställda", "avbrutna", "verkställda", "avslutad"].firstIndex(of: parts[1]) ?? 9
                        statRows.append((q.quarter.number, order, label, [q.quarter.number: n]))
                    }
                }
                var rows = perYear[q.quarter.year] ?? [["Kvartal"], [IVOReport.listNames[0]], [IVOReport.listNames[1]], [IVOReport.listNames[2]]]
                rows[0].append(q.quarter.description.replacingOccurrences(of: "-", with: " "))
                rows[1].append(String(q.list(.notExecuted).count))
                rows[2].append(String(q.list(.interrupted).count))
                rows[3].append(String(q.list(.executedOrEnded).count))
                perYear[q.quarter.year] = rows
            }
            let statistics =
                [["Typ av beslut", "Kvartal 1", "Kvartal 2", "Kvartal 3", "Kvartal 4"]]
                + statRows.sorted { ($0.quarter, $0.order) < ($1.quarter, $1.order) }.map { r in
                    [r.label] + (1...4).map { n in r.counts[n].map { "\($0) st" } ?? "" }
                }
            presented.append(PresentedTable(title: "Statistik för kvartalen \(year)", rows: statistics))
            for (y, rows) in perYear.sorted(by: { $0.key < $1.key }) {
                presented.append(PresentedTable(title: "Sammanställning ej verkställda gynnande beslut, år \(y)", rows: rows))
            }
            var later = settings.quarter
            while later.number < 4 {  // the rest of the year: not reported yet, left empty
                later = later.next
                try counts.write([later.description, "", "", ""])
            }
        }
        let txt = try FileIO.writeText(text, directory: dir, name: "ivo_report.txt", banner: banner)
        let sheet = try PresentedTable.write(presented, directory: dir, name: "ivo_report.sheet.json")
        return ([try report.commit(), txt, try counts.commit(), try stats.commit(), sheet], totals)
    }

    /// The three lists as the committee's document sets them out (in the annual report).
    static func humanReport(_ r: QuarterReport) -> String {
        let (heading, tables) = humanTables(r)
        return heading + "\n\n" + tables.map { $0.title + "\n" + TextTable.render($0.rows, rightAlignFrom: 99) + "\n" }.joined()
    }

    /// The heading and the three lists, as tables.
    static func humanTables(_ r: QuarterReport) -> (heading: String, tables: [PresentedTable]) {
        let heading = "Ej verkställda beslut, kvartal \(r.quarter.number) \(r.quarter.year)\nRapporteringstillfälle \(r.reportingDate)"
        var tables: [PresentedTable] = []
        let heads: [(List, String, String)] = [
            (
                .notExecuted, "1. Gynnande beslut som ej verkställts inom tre månader från dagen för beslut",
                "Skäl till att beslutet ännu ej verkställts"
            ),
            (
                .interrupted, "2. Gynnande beslut som avbrutits och ej verkställts inom tre månader från dagen för avbrottet",
                "Skäl till att beslutet ännu ej verkställts"
            ),
            (
                .executedOrEnded, "3. Beslut som tidigare rapporterats som ej verkställt och som nu verkställts eller avslutats",
                "Datum för verkställighet, avslut"
            ),
        ]
        for (l, title, third) in heads {
            var rows = [["Beslutsdatum", "Typ av beslut", third, "Lagrum"]]
            for e in r.list(l) {
                rows.append([
                    e.decision.decisionDate.description, e.decision.measure, l == .executedOrEnded ? (e.date?.description ?? "") : e.decision.reason,
                    e.decision.legalBasis,
                ])
            }
            tables.append(PresentedTable(title: title, rows: rows))
        }
        return (heading, tables)
    }
}
