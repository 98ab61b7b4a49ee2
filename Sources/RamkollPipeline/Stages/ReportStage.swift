import Foundation
import RamkollModel

/// Report: the committee's tables in formats people and machines open, from the deviation and
/// prognosis outputs (nothing is computed again):
///
/// - `drift_kalkyl.csv` (the Drift table per unit, one under the other, as the committee's
///   document sets it), `prognos_kalkyl.csv`, `avvikelse_kalkyl.csv` — Swedish spreadsheet CSV:
///   UTF-8 with a byte order mark, `;`, decimal comma, Swedish headers, tkr as whole numbers;
/// - `tables.json` — canonical, for machines: every table with its columns and its figures in öre
///   (exact) and tkr (rounded once), sorted keys.
public struct ReportStage: Stage {
    public let name = StageName.report
    public init() {}

    struct Table: Encodable {
        let name: String
        let columns: [String]
        let rows: [[String]]
    }

    struct Document: Encodable {
        let schema = "ramkoll.report/1"
        let pipeline: String
        let asOf: String
        let fiscalYear: Int
        /// `ok`, or `data-error` when the run ends with a data error (listed in `data_errors`).
        let status: String
        let dataErrors: [String]
        let tables: [Table]
        enum CodingKeys: String, CodingKey {
            case schema, pipeline, asOf = "as_of", fiscalYear = "fiscal_year", status, dataErrors = "data_errors", tables
        }
    }

    /// Writes a spreadsheet CSV: BOM, `;`, CRLF (what Excel writes and reads back).
    static func spreadsheet(_ name: String, header: [String], rows: [[String]], in dir: String) throws -> OutputRecord {
        try spreadsheet(name, lines: [header] + rows, dataRows: rows.count, in: dir)
    }

    /// A spreadsheet CSV of tables one under the other, as a committee document sets them: each
    /// table's title, its header and its rows, a blank line between. `rows` of the record counts
    /// the tables' rows (not titles, headers or blank lines).
    static func spreadsheet(_ name: String, blocks: [(title: String, header: [String], rows: [[String]])], in dir: String) throws -> OutputRecord {
        let lines = blocks.enumerated().flatMap { i, b in (i > 0 ? [[]] : []) + [[b.title], b.header] + b.rows }
        return try spreadsheet(name, lines: lines, dataRows: blocks.reduce(0) { $0 + $1.rows.count }, in: dir)
    }

    private static func spreadsheet(_ name: String, lines: [[String]], dataRows: Int, in dir: String) throws -> OutputRecord {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        for r in lines {
            for (i, f) in r.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ";")) }
                TableWriter.appendField(f, to: &bytes)
            }
            bytes += [0x0D, 0x0A]
        }
        let data = Data(bytes)
        try FileIO.writeAtomically(data, to: dir + "/" + name)
        return OutputRecord(path: name, sha256: FileIO.sha256(data), bytes: Int64(data.count), rows: Int64(dataRows))
    }

    static func readTable(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let t = try TableReader(path: path, required: [])
        let header = t.index.sorted { $0.value < $1.value }.map(\.key)
        var rows: [[String]] = []
        try t.forEach { row in rows.append(header.map { row[$0] }) }
        return (header, rows)
    }

    /// A machine table's cell for a spreadsheet: öre → whole tkr, a percentage's point → a decimal
    /// comma; other text as it is.
    static func spreadsheetCell(_ s: String, column: String) -> String {
        if column.hasSuffix("_ore"), let v = Int64(s) { return String(Ore(v).tkr) }
        if column.hasSuffix("_pct") { return s.replacingOccurrences(of: ".", with: ",") }
        return s
    }

    /// Sheet names of the committee's tables in the workbook (at most 31 characters).
    static let sheetNames = [
        "resultatbudget": "Resultatbudget", "resultatbudget_enheter": "Resultatbudget enheter", "budget_verksamhet": "Budget per verksamhet",
        "driftsammandrag": "Driftsammandrag", "drift": "Drift", "ekonomiska_ramar": "Ekonomiska ramar", "investeringar": "Investeringar",
        "investeringsbudget": "Investeringsbudget",
        "investeringar_netto": "Investeringar netto", "investeringsprojekt": "Investeringsprojekt",
    ]

    /// Swedish column names for the spreadsheets.
    static let swedishColumns: [String: String] = [
        "unit": "Enhet", "unit_name": "Enhetsnamn", "level": "Nivå", "line": "Rad", "line_name": "Radnamn",
        "budget_year_ore": "Budget helår (tkr)", "budget_ytd_ore": "Budget t.o.m. (tkr)", "actual_ytd_ore": "Utfall t.o.m. (tkr)",
        "deviation_ytd_ore": "Avvikelse t.o.m. (tkr)", "deviation_pct": "Avvikelse %", "over_threshold": "Över tröskeln",
        "run_rate_ore": "Prognos årstakt (tkr)", "ytd_plus_budget_ore": "Prognos utfall + budget (tkr)", "seasonal_ore": "Prognos säsong (tkr)",
        "case_based_ore": "Prognos verksamhetssystem (tkr)",
        "forecast_ore": "Prognos (tkr)", "forecast_method": "Metod", "deviation_ore": "Avvikelse (tkr)", "range_low_ore": "Intervall från (tkr)",
        "range_high_ore": "Intervall till (tkr)", "manual_comment": "Kommentar", "manual_author": "Författare",
    ]

    /// The tables the stages before set out (`*.sheet.json`): the aid table, the volume tables,
    /// the IVO report, the forecast history — a sheet each, and the tables for the HTML.
    static func presented(_ context: StageContext, subtitle: String, footer: String) throws -> (
        sheets: [XLSXWriter.Sheet], inputs: [InputRecord], tables: [PresentedTable]
    ) {
        var sheets: [XLSXWriter.Sheet] = []
        var inputs: [InputRecord] = []
        var all: [PresentedTable] = []
        let presented: [(StageName, String, String, String)] = [
            (.reconcile, "assistance_table.sheet.json", "Utbetalt bistånd", "Utbetalt ekonomiskt bistånd per månad"),
            (.reconcile, "volumes.sheet.json", "Volymer", "Volymer: vårddygn, budget och nettokostnad"),
            (.reconcile, "ivo_report.sheet.json", "Ej verkställda beslut", "Ej verkställda beslut (rapport till IVO)"),
            (.prognosis, "prognosforandring.sheet.json", "Prognosförändring", "Prognos och prognosförändring"),
        ]
        for (stage, file, sheetName, stackedTitle) in presented {
            guard let o = try context.optionalOutput(of: stage, named: file) else { continue }
            inputs.append(o.input)
            let tables = try PresentedTable.read(o.path).filter { !$0.rows.isEmpty }
            all += tables
            if tables.count == 1, let t = tables.first {
                sheets.append(
                    XLSXWriter.Sheet(
                        name: sheetName, header: t.rows[0], rows: XLSXWriter.cells(ofText: Array(t.rows.dropFirst())), title: t.title,
                        subtitle: subtitle, footer: footer))
            } else if !tables.isEmpty {
                sheets.append(
                    XLSXWriter.Sheet(
                        name: sheetName, title: stackedTitle, subtitle: subtitle,
                        blocks: tables.map {
                            XLSXWriter.Block(title: $0.title, header: $0.rows[0], rows: XLSXWriter.cells(ofText: Array($0.rows.dropFirst())))
                        },
                        footer: footer))
            }
        }
        return (sheets, inputs, all)
    }

    /// What the workbook's sheets and the HTML say the report covers, and the footer of every sheet.
    static func coverage(_ cfg: PipelineConfig, rootName: String) -> (covers: String, footer: String) {
        (
            cfg.asOf.month == 12 ? "Bokslut \(cfg.fiscalYear)" : "Utfall t.o.m. \(Swedish.month(cfg.asOf)) \(cfg.fiscalYear)",
            "\(rootName) · \(cfg.name) · per \(cfg.asOf) · Ramkoll \(RamkollVersion.string)"
        )
    }

    /// `rapport.xlsx`: the sheets, headed by a DATAFEL sheet when the run has data errors.
    static func writeWorkbook(_ sheets: [XLSXWriter.Sheet], dataErrors: [String], in dir: String) throws -> OutputRecord {
        var sheets = sheets
        if !dataErrors.isEmpty {
            sheets.insert(XLSXWriter.Sheet(name: "DATAFEL", header: [DataErrors.heading], rows: dataErrors.map { [.text($0)] }), at: 0)
        }
        try XLSXWriter.write(sheets, to: dir + "/rapport.xlsx")
        let (hex, bytes) = try FileIO.sha256(ofFile: dir + "/rapport.xlsx")
        return OutputRecord(path: "rapport.xlsx", sha256: hex, bytes: bytes, rows: Int64(sheets.count))
    }

    /// `tables.json`: the tables with their exact figures and the run's status.
    static func writeJSON(_ tables: [Table], config cfg: PipelineConfig, dataErrors: [String], in dir: String) throws -> OutputRecord {
        var json = try StageManifest.encoder().encode(
            Document(
                pipeline: cfg.name, asOf: cfg.asOf.description, fiscalYear: cfg.fiscalYear, status: dataErrors.isEmpty ? "ok" : "data-error",
                dataErrors: dataErrors, tables: tables))
        json.append(0x0A)
        try FileIO.writeAtomically(json, to: dir + "/tables.json")
        return OutputRecord(path: "tables.json", sha256: FileIO.sha256(json), bytes: Int64(json.count), rows: Int64(tables.count))
    }

    /// The report of a pipeline that reads no ledger and no budget (case extracts only): the
    /// tables of the case system, and none by report line (they would be tables of zeros).
    func caseSystemReport(_ context: StageContext) throws -> StageResult {
        let cfg = context.config, maps = context.mappings
        let dir = context.directory(name)
        let dataErrors = DataErrors.upstream(context, before: name)
        let rootName = maps.units.byID[maps.units.root]?.name ?? maps.units.root
        let (covers, footer) = ReportStage.coverage(cfg, rootName: rootName)
        var (sheets, inputs, tables) = try ReportStage.presented(context, subtitle: "\(covers) · \(rootName)", footer: footer)
        var outputs: [OutputRecord] = []
        outputs.append(
            try FileIO.writeText(
                tables.map { "\($0.title)\n" + TextTable.render($0.rows) + "\n" }.joined(), directory: dir, name: "tabeller.txt",
                banner: DataErrors.textBanner(dataErrors)))
        if sheets.isEmpty {
            sheets.append(
                XLSXWriter.Sheet(
                    name: "Rapport",
                    header: [
                        "Pipelinen \(cfg.name) har inga tabeller att visa: ingen huvudbok, ingen budget och inga tabeller ur verksamhetssystemet."
                    ],
                    rows: [], title: rootName, subtitle: covers, footer: footer))
        }
        outputs.append(try ReportStage.writeWorkbook(sheets, dataErrors: dataErrors, in: dir))
        let html = HTMLReport.render(
            config: cfg, mappings: maps, drift: [], avvikelse: [], prognos: [], months: [], driftTable: ("", [], []), presented: tables,
            dataErrors: dataErrors)
        outputs.append(try FileIO.writeText(html, directory: dir, name: "rapport.html"))
        outputs.append(try ReportStage.writeJSON([], config: cfg, dataErrors: dataErrors, in: dir))
        let manifest = context.manifest(
            name, inputs: inputs, outputs: outputs, totals: ["tables": 0, "presented_tables": Int64(tables.count)], balances: [],
            notes: ["the pipeline reads no ledger and no budget: no tables by report line"])
        return StageResult(
            manifest: manifest,
            summary: [
                "report: \(tables.count) tables of the case system (\(sheets.map(\.name).joined(separator: ", "))) in tabeller.txt, rapport.xlsx and rapport.html in 06-report/"
            ])
    }

    public func run(_ context: StageContext) throws -> StageResult {
        let cfg = context.config
        guard cfg.readsMoney else { return try caseSystemReport(context) }
        let dir = context.directory(name)
        let drift = try context.output(of: .deviation, named: "drift.csv")
        let avvikelse = try context.output(of: .deviation, named: "avvikelse.csv")
        let prognos = try context.output(of: .prognosis, named: "prognos.csv")
        let grid = try context.output(of: .reconcile, named: "actuals_vs_budget.csv")
        let changes = try context.optionalOutput(of: .prognosis, named: "prognosforandring.csv")
        // A run that ends with a data error says so at the head of every deliverable.
        let dataErrors = DataErrors.upstream(context, before: name)
        var tables: [Table] = []
        var outputs: [OutputRecord] = []

        // Drift: already in tkr. Before December it is a month report: budget and outcome to date and
        // their difference, then the year's budget, the year's forecast and their difference.
        var d = try ReportStage.readTable(drift.path)
        let closing = cfg.asOf.month == 12, through = Swedish.shortMonth(cfg.asOf), fy = cfg.fiscalYear
        let driftNames = [
            "unit": "Enhet", "unit_name": "Enhetsnamn", "level": "Nivå", "line": "Rad", "line_name": "Radnamn",
            "budget_tkr": closing ? "Budget \(fy) (tkr)" : "Budget helår \(fy) (tkr)", "budget_ytd_tkr": "Budget t.o.m. \(through) (tkr)",
            "actual_tkr": closing ? "Bokslut (tkr)" : "Utfall t.o.m. \(through) (tkr)",
            "deviation_tkr": closing ? "Avvikelse (tkr)" : "Avvikelse t.o.m. \(through) (tkr)",
            "previous_year_tkr": closing ? "Föregående år (tkr)" : "Utfall t.o.m. \(through) \(fy - 1) (tkr)", "diff_tkr": "Diff (tkr)",
            "forecast_tkr": "Prognos helår \(fy) (tkr)", "forecast_deviation_tkr": "Avvikelse helår (tkr)",
        ]
        if !closing {
            var forecastOre: [String: (forecast: Ore, budget: Ore)] = [:]
            try TableReader(path: prognos.path, required: ["unit", "line", "forecast_ore", "budget_year_ore"]).forEach { row in
                forecastOre[row["unit"] + "\u{0}" + row["line"]] = (Ore(try row.int("forecast_ore")), Ore(try row.int("budget_year_ore")))
            }
            let (u, l) = (d.header.firstIndex(of: "unit")!, d.header.firstIndex(of: "line")!)
            // Beside the year's budget: the year's forecast and their difference.
            let at = d.header.firstIndex(of: "budget_tkr")! + 1
            d.header.insert(contentsOf: ["forecast_tkr", "forecast_deviation_tkr"], at: at)
            d.rows = try d.rows.map { r in
                guard let f = forecastOre[r[u] + "\u{0}" + r[l]] else {
                    throw RamkollError(.internalFailure, "05-prognosis/prognos.csv has no forecast for \(r[u]) × \(r[l]); rerun from prognosis")
                }
                // Each figure rounded once from its öre.
                var row = r
                row.insert(contentsOf: [String(f.forecast.tkr), String((f.forecast - f.budget).tkr)], at: at)
                return row
            }
        }
        // drift_kalkyl.csv in the table's shape: per unit (every node), its lines down and the
        // figures across, as drift.txt and the committee's document set it out.
        do {
            let (ui, ni, li) = (d.header.firstIndex(of: "unit")!, d.header.firstIndex(of: "unit_name")!, d.header.firstIndex(of: "line")!)
            let figureColumns = d.header.indices.filter { d.header[$0].hasSuffix("_tkr") }
            var blocks: [(title: String, header: [String], rows: [[String]])] = []
            for r in d.rows {
                if blocks.last?.title.hasSuffix("(\(r[ui]))") != true {
                    blocks.append(
                        ("Drift — \(r[ni]) (\(r[ui]))", ["Belopp i tkr"] + figureColumns.map { driftNames[d.header[$0]] ?? d.header[$0] }, []))
                }
                let line = context.mappings.lineByID[r[li]]
                blocks[blocks.count - 1].rows.append([(line?.partOf != nil ? "  " : "") + (line?.name ?? r[li])] + figureColumns.map { r[$0] })
            }
            outputs.append(try ReportStage.spreadsheet("drift_kalkyl.csv", blocks: blocks, in: dir))
        }
        tables.append(Table(name: "drift", columns: d.header, rows: d.rows))

        // Avvikelse and prognosis: öre → tkr for the spreadsheet, exact öre in the JSON.
        for (source, sheet, label) in [(avvikelse, "avvikelse_kalkyl.csv", "avvikelse"), (prognos, "prognos_kalkyl.csv", "prognos")] {
            let t = try ReportStage.readTable(source.path)
            let header = t.header.map { ReportStage.swedishColumns[$0] ?? $0 }
            let rows = t.rows.map { r in zip(t.header, r).map { Swedish.value(ReportStage.spreadsheetCell($1, column: $0), column: $0) } }
            outputs.append(try ReportStage.spreadsheet(sheet, header: header, rows: rows, in: dir))
            tables.append(Table(name: label, columns: t.header, rows: t.rows))
        }
        // The committee's tables by unit and line (budget documents, activity plans, internal budgets): from the grid, the forecasts and the plan.
        let maps = context.mappings
        let planFile = try context.output(of: .normalize, named: "plan.csv")
        let figures = try Figures.load(path: grid.path, mappings: maps)
        var forecast: [String: [String: Ore]] = [:]
        try TableReader(path: prognos.path, required: ["unit", "line", "forecast_ore"]).forEach { row in
            forecast[row["unit"], default: [:]][row["line"]] = Ore(try row.int("forecast_ore"))
        }
        let committee = try CommitteeTables.build(
            config: cfg, mappings: maps, figures: figures, forecast: forecast, plan: try Plan.load(path: planFile.path, asOf: cfg.asOf))
        // The committee's Drift (the annual report's): the root's table, before December with the year's
        // forecast and its difference from the year's budget beside the year's budget.
        let root = maps.units.root, rootName = maps.units.byID[root]?.name ?? root
        let rootBudget = figures.lines(of: root, mappings: maps) { $0.budgetYear }
        let rootForecast = forecast[root] ?? [:]
        let driftSheet = DriftTable.build(unit: root, figures: figures, mappings: maps, config: cfg).sheet(
            config: cfg, rootName: rootName,
            extra: closing
                ? []
                : [
                    ("forecast_tkr", "Prognos helår \(fy)", rootForecast),
                    (
                        "forecast_deviation_tkr", "Avvikelse helår",
                        Dictionary(uniqueKeysWithValues: rootForecast.compactMap { l, f in rootBudget[l].map { (l, f - $0) } })
                    ),
                ])
        let driftRows = driftSheet.textRows()
        let driftDisplay = (
            title: driftSheet.title, rows: driftRows, sums: Set(driftSheet.rows.enumerated().filter { $0.element.style == .sum }.map(\.offset))
        )
        // The investment tables, when the pipeline has investments.
        var investments = CommitteeTables.Built()
        var investmentInputs: [InputRecord] = []
        if let map = maps.investments, let file = try context.optionalOutput(of: .reconcile, named: "investments.csv") {
            let budgetFile = try context.optionalOutput(of: .normalize, named: "investment_budget.csv")
            investmentInputs = [file.input] + (budgetFile.map { [$0.input] } ?? [])
            investments = try InvestmentTables.build(config: cfg, map: map, investments: file.path, budget: budgetFile?.path)
        }
        // Key figures from what the run holds.
        let placementsFile = try context.output(of: .normalize, named: "placements.csv")
        let assistanceFile = cfg.assistance == nil ? nil : try context.optionalOutput(of: .reconcile, named: "assistance.csv")
        let keyFigures = try KeyFigures.build(
            config: cfg, mappings: maps, figures: figures, forecast: forecast, rowUnits: committee.rowUnits, assistancePath: assistanceFile?.path,
            placementsPath: placementsFile.path)
        investmentInputs += [placementsFile.input] + (assistanceFile.map { [$0.input] } ?? [])
        let fixedTables = tables.count
        for t in committee.tables {
            let p = committee.presentation[t.name]!
            outputs.append(try ReportStage.spreadsheet("\(t.name)_kalkyl.csv", header: p.header, rows: p.rows, in: dir))
            tables.append(t)
        }
        outputs.append(
            try FileIO.writeText(
                "\(driftSheet.title) — \(rootName)\n" + TextTable.render(driftRows) + "\n" + committee.text + investments.text + keyFigures.text,
                directory: dir,
                name: "tabeller.txt",
                banner: DataErrors.textBanner(dataErrors)))

        // The workbook: one sheet per table, titled, numbers as numbers in the table's unit.
        let (covers, footer) = ReportStage.coverage(cfg, rootName: rootName)
        func cells(_ header: [String], _ row: [String]) -> [XLSXWriter.Cell] {
            zip(header, row).map { column, value in
                if column.hasSuffix("_tkr"), let v = Int64(value) { return .integer(v) }
                if column.hasSuffix("_ore"), let v = Int64(value) { return .integer(Ore(v).tkr) }
                if column.hasSuffix("_pct"), !value.isEmpty { return .decimal(value) }
                if column == "level", let v = Int64(value) { return .plain(v) }
                return .text(Swedish.value(value, column: column))
            }
        }
        /// A unit × line table's row style: sum lines bold, varav lines indented.
        func lineStyle(_ t: Table) -> [XLSXWriter.RowStyle] {
            guard let i = t.columns.firstIndex(of: "line") else { return [] }
            return t.rows.map { r in
                guard let l = maps.lineByID[r[i]] else { return .normal }
                return l.isSum ? .sum : l.partOf != nil ? .varav : .normal
            }
        }
        let fixedTitles = [
            "drift": "Drift per enhet och rad", "avvikelse": "Avvikelser mot budget", "prognos": "Helårsprognos per enhet och rad",
        ]
        // The committee's tables first (the annual report's order), then the other tables of its
        // documents, then the unit × line detail an auditor or controller works from.
        let detail = tables.prefix(fixedTables).map { t in
            XLSXWriter.Sheet(
                name: t.name == "drift" ? "Drift per enhet" : t.name.capitalized,
                header: t.columns.map { ReportStage.swedishColumns[$0] ?? driftNames[$0] ?? $0 },
                rows: t.rows.map { cells(t.columns, $0) }, title: "\(fixedTitles[t.name] ?? t.name) — \(rootName)",
                subtitle: "\(covers) · belopp i tkr", styles: lineStyle(t), footer: footer)
        }
        var sheets: [XLSXWriter.Sheet] = []
        tables += investments.tables
        let committeeSheets =
            [("drift", driftSheet)]
            + (committee.tables + investments.tables).compactMap { t in
                (committee.sheets[t.name] ?? investments.sheets[t.name]).map { (t.name, $0) }
            }
        for (name, c) in committeeSheets {
            sheets.append(
                XLSXWriter.Sheet(
                    name: ReportStage.sheetNames[name] ?? name, header: c.header,
                    rows: c.rows.map { r in
                        [.text(r.label)]
                            + r.values.map { o -> XLSXWriter.Cell in
                                guard let o else { return .text("") }
                                return CommitteeTables.cell(o, mnkr: c.inMnkr, decimals: c.decimals)
                            }
                    }, title: "\(c.title) — \(rootName)", subtitle: "\(covers) · belopp i \(c.inMnkr ? "mnkr" : "tkr")", styles: c.rows.map(\.style),
                    footer: footer))
        }
        tables += keyFigures.tables
        sheets += investments.extraSheets.map { x in
            var x = x
            x.title = (x.title ?? x.name) + " — \(rootName)"
            x.subtitle = "\(covers) · belopp i tkr"
            x.footer = footer
            return x
        }
        sheets.append(
            XLSXWriter.Sheet(
                name: "Nyckeltal", title: "Nyckeltal — \(rootName)", subtitle: covers,
                blocks: keyFigures.presented.map {
                    XLSXWriter.Block(title: $0.title, header: $0.rows[0], rows: XLSXWriter.cells(ofText: Array($0.rows.dropFirst())))
                }, footer: footer))
        // The other tables the committee's documents print, as the stages' text sets them out.
        let (presentedSheets, presentedInputs, presentedTables) = try ReportStage.presented(
            context, subtitle: "\(covers) · \(rootName)", footer: footer)
        sheets += presentedSheets
        sheets += detail
        outputs.append(try ReportStage.writeWorkbook(sheets, dataErrors: dataErrors, in: dir))

        // The HTML report: monthly net cost (the base lines under NETTO) at the root, from the grid.
        let netLines = maps.components(of: maps.netCostLine)
        var budgetByMonth: [String: Ore] = [:], actualByMonth: [String: Ore] = [:]
        try TableReader(path: grid.path, required: ["line", "period", "budget_ore", "actual_ore"]).forEach { row in
            guard netLines.contains(row["line"]) else { return }
            budgetByMonth[row["period"], default: .zero] += Ore(try row.int("budget_ore"))
            actualByMonth[row["period"], default: .zero] += Ore(try row.int("actual_ore"))
        }
        func dicts(_ t: Table) -> [[String: String]] { t.rows.map { Dictionary(uniqueKeysWithValues: zip(t.columns, $0)) } }
        // The forecast at each checkpoint (root, result line), when the pipeline keeps a history.
        var checkpoints: [(name: String, deviation: Ore)] = []
        if let changes {
            let result = maps.resultLine
            try TableReader(path: changes.path, required: ["unit", "line", "checkpoint", "checkpoint_name", "forecast_deviation_ore"]).forEach {
                row in
                // At the close the year's own checkpoint is the outcome, shown as such.
                let closing = cfg.asOf.month == 12 && row["checkpoint"] == cfg.asOf.description
                if row["unit"] == maps.units.root && row["line"] == result && !closing {
                    checkpoints.append((row["checkpoint_name"], Ore(try row.int("forecast_deviation_ore"))))
                }
            }
        }
        let html = HTMLReport.render(
            config: cfg, mappings: context.mappings, drift: dicts(tables[0]), avvikelse: dicts(tables[1]), prognos: dicts(tables[2]),
            months: Period.months(ofYear: cfg.fiscalYear).map {
                HTMLReport.Month(
                    period: $0.description, budget: budgetByMonth[$0.description] ?? .zero, actual: actualByMonth[$0.description] ?? .zero)
            }, checkpoints: checkpoints, driftTable: driftDisplay, committee: committee.display + investments.display,
            presented: presentedTables + keyFigures.presented,
            dataErrors: dataErrors)
        outputs.append(try FileIO.writeText(html, directory: dir, name: "rapport.html"))

        outputs.append(try ReportStage.writeJSON(tables, config: cfg, dataErrors: dataErrors, in: dir))

        let sheetRows = outputs.prefix(3).map(\.rows)
        let manifest = context.manifest(
            name,
            inputs: [drift.input, avvikelse.input, prognos.input, grid.input, planFile.input] + (changes.map { [$0.input] } ?? []) + presentedInputs
                + investmentInputs,
            outputs: outputs,
            totals: ["tables": Int64(tables.count)],
            balances: [
                Balance("drift_kalkyl.csv rows = drift.csv rows", left: sheetRows[0], right: Int64(d.rows.count)),
                Balance(
                    "avvikelse_kalkyl.csv rows + prognos_kalkyl.csv rows = rows of avvikelse.csv and prognos.csv", left: sheetRows[1] + sheetRows[2],
                    right: Int64(tables[1].rows.count + tables[2].rows.count)),
            ] + committee.balances)
        return StageResult(
            manifest: manifest,
            summary: [
                "report: spreadsheet CSV (drift, avvikelse, prognos, \(committee.tables.map(\.name).joined(separator: ", "))), rapport.xlsx, rapport.html and tables.json in 06-report/"
            ]
                + (investments.tables.isEmpty
                    ? []
                    : [
                        "report: investment tables (\(investments.tables.map(\.name).joined(separator: ", "))) in tabeller.txt, the workbook and the HTML"
                    ]))
    }
}
