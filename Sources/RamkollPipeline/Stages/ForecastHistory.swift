import Foundation
import RamkollModel

/// Forecast history (the annual report's "Prognos och prognosförändring"): per unit and line, the forecast
/// deviation at every checkpoint of the fiscal year, its change since the previous one and — at
/// the year's close — the outcome and outcome − forecast (prognossäkerhet). Each earlier
/// checkpoint's forecast is read from that checkpoint's own sealed run (the period's newest good
/// run, its `05-prognosis/prognos.csv`), which the prognosis manifest lists as an input with its
/// SHA-256 — so no run's outputs depend on a file outside its inputs, and sealed runs are never
/// written by later ones.
enum ForecastHistory {
    struct Entry { let budget: Ore; let forecast: Ore }

    /// The checkpoints before `asOf` (months of its year), each from its period's newest good run;
    /// and the files read. A checkpoint without a good run is left out.
    static func read(store: RunStore?, checkpoints: [Int], asOf: Period) throws -> ([Period: [String: Entry]], [InputRecord]) {
        var out: [Period: [String: Entry]] = [:]
        var inputs: [InputRecord] = []
        guard let store else { return (out, inputs) }
        for month in checkpoints where month < asOf.month {
            let p = Period(year: asOf.year, month: month)!
            guard
                let id = store.runs(asOf: p).reversed().first(where: { RunRecord.read(from: store.directory(of: $0))?.isGood ?? false })
            else { continue }
            let path = store.directory(of: id) + "/05-prognosis/prognos.csv"
            guard FileIO.exists(path) else { continue }
            let (hex, bytes) = try FileIO.sha256(ofFile: path)
            inputs.append(InputRecord(path: path, sha256: hex, bytes: bytes, role: "forecast checkpoint \(p) (run \(id))"))
            var entries: [String: Entry] = [:]
            try TableReader(path: path, required: ["unit", "line", "budget_year_ore", "forecast_ore"]).forEach { row in
                entries[row["unit"] + "|" + row["line"]] = Entry(
                    budget: Ore(try row.int("budget_year_ore")), forecast: Ore(try row.int("forecast_ore")))
            }
            out[p] = entries
        }
        return (out, inputs)
    }

    /// prognosforandring.csv (every unit × line × checkpoint) and prognosforandring.txt (the root's
    /// result line, in the annual report's shape).
    static func writeReport(
        directory dir: String, history: [Period: [String: Entry]], settings: PipelineConfig.ForecastHistorySettings, asOf: Period,
        maps: MappingTables, banner: String = "", outcome: (String, String) -> Ore, budget: (String, String) -> Ore
    ) throws -> [OutputRecord] {
        let checkpoints = history.keys.sorted()
        let closed = asOf.month == 12
        func name(_ p: Period) -> String { settings.checkpointNames[p.month] ?? "Prognos \(p)" }
        let csv = try TableWriter(
            directory: dir, name: "prognosforandring.csv",
            header: [
                "unit", "line", "checkpoint", "checkpoint_name", "forecast_deviation_ore", "change_since_previous_ore", "outcome_minus_forecast_ore",
            ])
        for unit in maps.units.depthFirst() {
            for l in maps.reportLines {
                var previous: Ore?
                for c in checkpoints {
                    guard let e = history[c]?[unit.id + "|" + l.id] else { continue }
                    let dev = e.forecast - e.budget
                    let outcomeDev = closed ? outcome(unit.id, l.id) - budget(unit.id, l.id) : nil
                    try csv.write([
                        unit.id, l.id, c.description, name(c), String(dev.value), previous.map { String((dev - $0).value) } ?? "",
                        outcomeDev.map { String(($0 - dev).value) } ?? "",
                    ])
                    previous = dev
                }
            }
        }
        // As the annual report: Avstämningstillfälle | Prognos | Avvikelse från bokslut, for the root's result line.
        let root = maps.units.root, result = maps.resultLine
        var rows = [["Avstämningstillfälle", "Prognos", closed ? "Avvikelse från bokslut" : "Förändring"]]
        let outcomeDev = outcome(root, result) - budget(root, result)
        var previous: Ore?
        for c in checkpoints where !(closed && c == asOf) {
            guard let e = history[c]?[root + "|" + result] else { continue }
            let dev = e.forecast - e.budget
            let third = closed ? Ore.formatWhole((outcomeDev - dev).tkr) : previous.map { Ore.formatWhole((dev - $0).tkr) } ?? ""
            rows.append([name(c), Ore.formatWhole(dev.tkr), third])
            previous = dev
        }
        if closed { rows.append(["Bokslut \(asOf.year)", Ore.formatWhole(outcomeDev.tkr), ""]) }
        let title =
            "Prognos och prognosförändring — \(maps.lineByID[result]!.name), \(maps.units.byID[root]?.name ?? root) (tkr, avvikelse mot budget)"
        return [
            try csv.commit(),
            try FileIO.writeText(title + "\n" + TextTable.render(rows), directory: dir, name: "prognosforandring.txt", banner: banner),
            try PresentedTable.write([PresentedTable(title: title, rows: rows)], directory: dir, name: "prognosforandring.sheet.json"),
        ]
    }
}
