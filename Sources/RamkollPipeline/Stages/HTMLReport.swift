import Foundation
import RamkollModel

/// A self-contained HTML report (inline CSS and SVG, no scripts, no network): the committee's Drift
/// table, budget against outcome per month, the forecast by method, and the deviation by unit.
/// Figures come from the stage outputs; charts are drawn in tkr, rounded once.
enum HTMLReport {
    struct Month { let period: String; let budget: Ore; let actual: Ore }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A round step for about four intervals over `span`: 1, 2 or 5 times a power of ten.
    static func niceStep(_ span: Int64) -> Int64 {
        let raw = max(span / 4, 1)
        var p: Int64 = 1
        while p * 10 <= raw { p *= 10 }
        return [1, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? p * 10
    }

    /// Grouped bars with a zero line; values in tkr; axis ticks at round values. `signColors` draws
    /// each bar by its sign (surplus green, deficit red) and writes its value at its end, so the
    /// sign is read from the text, not from the colour alone. A missing value is marked "–" with
    /// the note `missing` under the chart.
    static func bars(
        title: String, labels: [String], series: [(name: String, color: String, values: [Int64?])], width: Int = 900, height: Int = 260,
        signColors: Bool = false, missing: String? = nil
    ) -> String {
        let all: [Int64] = series.flatMap { s in s.values.compactMap { $0 } } + [0]
        let step = niceStep(max(all.max()!, 1) - min(all.min()!, 0))
        let maxV = Int64((Double(max(all.max()!, 1)) / Double(step)).rounded(.up)) * step
        let minV = Int64((Double(min(all.min()!, 0)) / Double(step)).rounded(.down)) * step
        let top = 30, bottom = height - 40, left = 70, right = width - 10
        let span = Double(maxV - minV)
        func y(_ v: Int64) -> Int { top + Int((Double(maxV - v) / span * Double(bottom - top)).rounded()) }
        let groupW = Double(right - left) / Double(max(labels.count, 1))
        let barW = groupW * 0.8 / Double(series.count)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(escape(title))\">"
        svg += "<text x=\"\(left)\" y=\"18\" class=\"t\">\(escape(title))</text>"
        for v in stride(from: minV, through: maxV, by: Int(step)) {
            svg +=
                "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(y(v))\" y2=\"\(y(v))\" class=\"g\"/><text x=\"\(left - 6)\" y=\"\(y(v) + 4)\" class=\"a\" text-anchor=\"end\">\(Ore.formatWhole(v))</text>"
        }
        svg += "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(y(0))\" y2=\"\(y(0))\" class=\"z\"/>"
        for (i, label) in labels.enumerated() {
            let gx = Double(left) + Double(i) * groupW + groupW * 0.1
            for (k, s) in series.enumerated() {
                let x = Int((gx + Double(k) * barW).rounded()), y0 = y(0)
                guard let v = s.values[i] else {
                    if missing != nil { svg += "<text x=\"\(x + Int(barW / 2))\" y=\"\(y0 - 4)\" class=\"a\" text-anchor=\"middle\">–</text>" }
                    continue
                }
                let yv = y(v)
                let color = signColors ? (v < 0 ? deficitColor : surplusColor) : s.color
                svg +=
                    "<rect x=\"\(x)\" y=\"\(min(y0, yv))\" width=\"\(max(Int(barW.rounded()) - 1, 1))\" height=\"\(max(abs(y0 - yv), 1))\" fill=\"\(color)\"><title>\(escape(label)) \(escape(s.name)): \(Ore.formatWhole(v)) tkr</title></rect>"
                if signColors {
                    let ty = v < 0 ? yv + 12 : yv - 3
                    svg +=
                        "<text x=\"\(x + Int(barW / 2))\" y=\"\(ty)\" class=\"a\" text-anchor=\"middle\">\(v > 0 ? "+" : "")\(Ore.formatWhole(v))</text>"
                }
            }
            svg += "<text x=\"\(Int((gx + groupW * 0.4).rounded()))\" y=\"\(bottom + 16)\" class=\"a\" text-anchor=\"middle\">\(escape(label))</text>"
        }
        var lx = left
        let legend: [(String, String)] =
            signColors ? [("Överskott (+)", surplusColor), ("Underskott (−)", deficitColor)] : series.map { ($0.name, $0.color) }
        for (name, color) in legend {
            svg +=
                "<rect x=\"\(lx)\" y=\"\(height - 14)\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(lx + 14)\" y=\"\(height - 5)\" class=\"a\">\(escape(name))</text>"
            lx += 14 + 8 * name.count + 20
        }
        svg += "</svg>"
        if let missing, series.contains(where: { $0.values.contains(nil) }) { svg += "<p class=\"m\">\(escape(missing))</p>" }
        return svg
    }

    static let surplusColor = "#548235", deficitColor = "#c00000"

    /// A figure as the text tables write it: "-1 234", "12,5", "3 st", "4,2 %".
    static func isFigure(_ s: String) -> Bool {
        s.range(of: #"^[-−]?\d{1,3}( \d{3})*(,\d+)?( st| %)?$"#, options: .regularExpression) != nil
    }

    static func table(_ header: [String], _ rows: [[String]], sumRows: Set<Int> = []) -> String {
        // A column of figures is set right; a column of text (a list's reasons, types) left.
        let numeric = header.indices.map { i in
            i > 0 && rows.allSatisfy { r in i >= r.count || r[i].isEmpty || isFigure(r[i]) }
        }
        var h =
            "<table><thead><tr>" + header.enumerated().map { "<th\(numeric[$0.offset] ? " class=\"n\"" : "")>\(escape($0.element))</th>" }.joined()
            + "</tr></thead><tbody>"
        for (i, r) in rows.enumerated() {
            // A label set in by two spaces (as the text tables set varav rows) is indented and italic.
            let varav = r.first?.hasPrefix("  ") == true
            h +=
                "<tr\(sumRows.contains(i) ? " class=\"s\"" : varav ? " class=\"v\"" : "")>"
                + r.enumerated().map {
                    "<td\($0.offset < numeric.count && numeric[$0.offset] ? " class=\"n\"" : "")>\(escape($0.offset == 0 ? $0.element.trimmingCharacters(in: " ") : $0.element))</td>"
                }.joined() + "</tr>"
        }
        return h + "</tbody></table>"
    }

    static func render(
        config cfg: PipelineConfig, mappings maps: MappingTables, drift: [[String: String]], avvikelse: [[String: String]],
        prognos: [[String: String]],
        months: [Month], checkpoints: [(name: String, deviation: Ore)] = [],
        driftTable: (title: String, rows: [[String]], sums: Set<Int>),
        committee: [(title: String, rows: [[String]], sums: Set<Int>)] = [], presented: [PresentedTable] = [], dataErrors: [String] = []
    ) -> String {
        let root = maps.units.root
        let rootName = maps.units.byID[root]?.name ?? root
        let fy = cfg.fiscalYear
        let resultLine = maps.resultLine, netLine = maps.netCostLine
        var body = DataErrors.htmlBanner(dataErrors) + "<h1>\(escape(rootName)) — \(cfg.readsMoney ? "ekonomisk uppföljning" : "uppföljning") \(cfg.asOf)</h1>"
        guard cfg.readsMoney else {
            // Case extracts only: their tables, and nothing by report line.
            body += "<p class=\"m\">Pipeline \(escape(cfg.name)), räkenskapsår \(fy), t.o.m. \(cfg.asOf). Tabeller ur verksamhetssystemet.</p>"
            return page(body: body, presented: presented, committee: [], rootName: rootName, cfg: cfg)
        }
        body +=
            "<p class=\"m\">Pipeline \(escape(cfg.name)), räkenskapsår \(fy), utfall t.o.m. \(cfg.asOf). Belopp i tkr, varje belopp avrundat för sig. Budget: \(escape(cfg.budgetVersionsText)).</p>"

        // The committee's Drift table (the root's), as tabeller.txt shows it.
        body += "<h2>\(escape(driftTable.title))</h2>" + table(driftTable.rows[0], Array(driftTable.rows.dropFirst()), sumRows: driftTable.sums)

        // Budget against outcome per month (net cost, shown as positive cost).
        body +=
            "<h2>Budget och utfall per månad</h2>"
            + bars(
                title: "Nettokostnad per månad, tkr", labels: months.map { String($0.period.suffix(2)) },
                series: [
                    ("Budget", "#9bb7d4", months.map { Optional(-$0.budget.tkr) }),
                    ("Utfall", "#1f4e79", months.map { m in m.period <= cfg.asOf.description ? Optional(-m.actual.tkr) : nil }),
                ])

        // Forecast by method for the result line.
        if let p = prognos.first(where: { $0["unit"] == root && $0["line"] == resultLine }) {
            let methods = [
                ("Årstakt", "run_rate_ore"), ("Utfall + budget", "ytd_plus_budget_ore"), ("Säsong", "seasonal_ore"),
                ("Vald prognos", "forecast_ore"),
            ]
            let without = methods.filter { Int64(p[$0.1] ?? "") == nil }.map(\.0)
            body +=
                "<h2>Helårsprognos</h2>"
                + bars(
                    title:
                        "\(maps.lineByID[resultLine]!.name) enligt prognosmetod, tkr (budget \(Ore.formatWhole(Ore(Int64(p["budget_year_ore"]!)!).tkr)))",
                    labels: methods.map(\.0), series: [("Prognos", "#c55a11", methods.map { m in Int64(p[m.1] ?? "").map { Ore($0).tkr } })],
                    missing:
                        "– \(without.joined(separator: ", ")): metoden ger ingen siffra för raden (för lite underlag, t.ex. inget utfall föregående år)."
                )
            body += "<p class=\"m\">Vald metod: \(escape(Swedish.value(p["forecast_method"]!, column: "forecast_method"))).</p>"
        }
        if !checkpoints.isEmpty {
            var labels = checkpoints.map(\.name)
            var values: [Int64?] = checkpoints.map { $0.deviation.tkr }
            if cfg.asOf.month == 12, let res = drift.first(where: { $0["unit"] == root && $0["line"] == resultLine }),
                let d = Int64(res["deviation_tkr"] ?? "")
            {
                labels.append("Bokslut \(fy)")
                values.append(d)
            }
            body +=
                "<h2>Prognos per uppföljningstillfälle</h2>"
                + bars(
                    title: "\(maps.lineByID[resultLine]!.name): prognostiserad avvikelse mot budget, tkr", labels: labels,
                    series: [("Prognos", "#7f6000", values)], signColors: true)
        }

        // Deviation by unit (first level under the root), net cost to date against budget to date.
        let firstLevel = maps.units.units.filter { $0.parent == root }
        let devs = firstLevel.map { u in
            avvikelse.first { $0["unit"] == u.id && $0["line"] == netLine }.flatMap { Int64($0["deviation_ytd_ore"]!) }.map { Ore($0).tkr }
        }
        body +=
            "<h2>Avvikelse per verksamhet</h2>"
            + bars(
                title: "Avvikelse mot budget t.o.m. \(Swedish.month(cfg.asOf)) \(fy), tkr", labels: firstLevel.map(\.name),
                series: [("Avvikelse", surplusColor, devs)], signColors: true)

        return page(body: body, presented: presented, committee: committee, rootName: rootName, cfg: cfg)
    }

    /// The committee's tables and the presented tables after `body`, in sections, with the footer and style.
    private static func page(
        body: String, presented: [PresentedTable], committee: [(title: String, rows: [[String]], sums: Set<Int>)], rootName: String,
        cfg: PipelineConfig
    ) -> String {
        var body = body
        let fy = cfg.fiscalYear
        // The committee's tables, as tabeller.txt shows them.
        for t in committee where t.rows.count > 1 {
            body += "<h2>\(escape(t.title))</h2>" + table(t.rows[0], Array(t.rows.dropFirst()), sumRows: t.sums)
        }
        // The other tables the committee's documents print (assistance, volumes, IVO, forecast history).
        for t in presented where !t.rows.isEmpty {
            body += "<h2>\(escape(t.title))</h2>" + table(t.rows[0], Array(t.rows.dropFirst()))
        }
        // Each heading with what follows it, kept together on a printed page.
        let parts = body.components(separatedBy: "<h2>")
        body = parts[0] + parts.dropFirst().map { "<section><h2>" + $0 + "</section>" }.joined()
        body +=
            "<footer>\(escape(rootName)) · pipeline \(escape(cfg.name)) · räkenskapsår \(fy) · per \(cfg.asOf) · Ramkoll \(RamkollVersion.string)</footer>"

        let css = """
            body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#222;max-width:960px}h1{font-size:22px}h2{font-size:17px;margin-top:28px}
            table{border-collapse:collapse;font-size:13px}th,td{padding:3px 10px;border-bottom:1px solid #ddd}th{background:#f0f0f0;text-align:left}
            .n{text-align:right}tr.s td{font-weight:bold}.m{color:#555;font-size:12px}svg .t{font-size:13px;font-weight:bold}
            svg .a{font-size:11px;fill:#444}svg .g{stroke:#e3e3e3}svg .z{stroke:#888}
            tr.v td:first-child{padding-left:24px;font-style:italic}td.n{white-space:nowrap}
            footer{margin-top:32px;border-top:1px solid #ccc;padding-top:6px;color:#555;font-size:11px}
            @page{size:A4;margin:14mm 12mm 16mm}
            @media print{body{margin:0;max-width:none}section{break-inside:avoid}h2{break-after:avoid}table,svg{break-inside:avoid}table{font-size:10px}th,td{padding:2px 6px}}
            """
        return
            "<!DOCTYPE html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>\(escape(rootName)) \(cfg.asOf)</title><style>\(css)</style></head><body>\(body)</body></html>\n"
    }
}
