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

    /// Grouped bars (two series) with a zero line; values in tkr.
    static func bars(title: String, labels: [String], series: [(name: String, color: String, values: [Int64?])], width: Int = 900, height: Int = 260)
        -> String
    {
        let all: [Int64] = series.flatMap { s in s.values.compactMap { $0 } } + [0]
        let maxV = max(all.max()!, 1), minV = min(all.min()!, 0)
        let top = 30, bottom = height - 40, left = 70, right = width - 10
        let span = Double(maxV - minV)
        func y(_ v: Int64) -> Int { top + Int((Double(maxV - v) / span * Double(bottom - top)).rounded()) }
        let groupW = Double(right - left) / Double(max(labels.count, 1))
        let barW = groupW * 0.8 / Double(series.count)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(escape(title))\">"
        svg += "<text x=\"\(left)\" y=\"18\" class=\"t\">\(escape(title))</text>"
        for frac in [0.0, 0.5, 1.0] {
            let v = Int64((Double(minV) + frac * span).rounded())
            svg +=
                "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(y(v))\" y2=\"\(y(v))\" class=\"g\"/><text x=\"\(left - 6)\" y=\"\(y(v) + 4)\" class=\"a\" text-anchor=\"end\">\(Ore.formatWhole(v))</text>"
        }
        svg += "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(y(0))\" y2=\"\(y(0))\" class=\"z\"/>"
        for (i, label) in labels.enumerated() {
            let gx = Double(left) + Double(i) * groupW + groupW * 0.1
            for (k, s) in series.enumerated() {
                guard let v = s.values[i] else { continue }
                let x = Int((gx + Double(k) * barW).rounded()), y0 = y(0), yv = y(v)
                svg +=
                    "<rect x=\"\(x)\" y=\"\(min(y0, yv))\" width=\"\(max(Int(barW.rounded()) - 1, 1))\" height=\"\(max(abs(y0 - yv), 1))\" fill=\"\(s.color)\"><title>\(escape(label)) \(escape(s.name)): \(Ore.formatWhole(v)) tkr</title></rect>"
            }
            svg += "<text x=\"\(Int((gx + groupW * 0.4).rounded()))\" y=\"\(bottom + 16)\" class=\"a\" text-anchor=\"middle\">\(escape(label))</text>"
        }
        var lx = left
        for s in series {
            svg +=
                "<rect x=\"\(lx)\" y=\"\(height - 14)\" width=\"10\" height=\"10\" fill=\"\(s.color)\"/><text x=\"\(lx + 14)\" y=\"\(height - 5)\" class=\"a\">\(escape(s.name))</text>"
            lx += 14 + 8 * s.name.count + 20
        }
        return svg + "</svg>"
    }

    static func table(_ header: [String], _ rows: [[String]], sumRows: Set<Int> = []) -> String {
        var h =
            "<table><thead><tr>" + header.enumerated().map { "<th\($0.offset > 0 ? " class=\"n\"" : "")>\(escape($0.element))</th>" }.joined()
            + "</tr></thead><tbody>"
        for (i, r) in rows.enumerated() {
            h +=
                "<tr\(sumRows.contains(i) ? " class=\"s\"" : "")>"
                + r.enumerated().map { "<td\($0.offset > 0 ? " class=\"n\"" : "")>\(escape($0.element))</td>" }.joined() + "</tr>"
        }
        return h + "</tbody></table>"
    }

    static func render(
        config cfg: PipelineConfig, mappings maps: MappingTables, drift: [[String: String]], avvikelse: [[String: String]],
        prognos: [[String: String]],
        months: [Month], checkpoints: [(name: String, deviation: Ore)] = [],
        committee: [(title: String, rows: [[String]], sums: Set<Int>)] = [], dataErrors: [String] = []
    ) -> String {
        let root = maps.units.root
        let rootName = maps.units.byID[root]?.name ?? root
        let fy = cfg.fiscalYear
        let resultLine = maps.reportLines.last!.id
        let netLine = maps.reportLines.first { $0.id == "NETTO" }?.id ?? resultLine
        var body = DataErrors.htmlBanner(dataErrors) + "<h1>\(escape(rootName)) — ekonomisk uppföljning \(cfg.asOf)</h1>"
        body +=
            "<p class=\"m\">Pipeline \(escape(cfg.name)), räkenskapsår \(fy), utfall t.o.m. \(cfg.asOf). Belopp i tkr, varje belopp avrundat för sig. Budget: \(escape(cfg.budgetVersionsText)).</p>"

        // Drift for the root.
        let rootDrift = drift.filter { $0["unit"] == root }
        let sums = Set(rootDrift.enumerated().filter { maps.lineByID[$0.element["line"]!]?.isSum == true }.map(\.offset))
        // At the close the year's budget against its outcome; before it, a month report: to date
        // against to date, and the year's budget against the year's forecast.
        let through = Swedish.shortMonth(cfg.asOf)
        let driftColumns: [(label: String, key: String)] =
            cfg.asOf.month == 12
            ? [
                ("Budget \(fy)", "budget_tkr"), ("Bokslut \(fy)", "actual_tkr"), ("Avvikelse", "deviation_tkr"),
                ("Föregående år", "previous_year_tkr"), ("Diff", "diff_tkr"),
            ]
            : [
                ("Budget t.o.m. \(through)", "budget_ytd_tkr"), ("Utfall t.o.m. \(through)", "actual_tkr"),
                ("Avvikelse t.o.m. \(through)", "deviation_tkr"), ("Budget helår \(fy)", "budget_tkr"), ("Prognos helår \(fy)", "forecast_tkr"),
                ("Avvikelse helår", "forecast_deviation_tkr"),
            ]
        body +=
            "<h2>Drift</h2>"
            + table(
                ["Belopp i tkr"] + driftColumns.map(\.label),
                rootDrift.map { r in [r["line_name"]!] + driftColumns.map { Ore.formatWhole(Int64(r[$0.key] ?? "") ?? 0) } },
                sumRows: sums)

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
                ("Run-rate", "run_rate_ore"), ("Utfall + budget", "ytd_plus_budget_ore"), ("Säsong", "seasonal_ore"),
                ("Vald prognos", "forecast_ore"),
            ]
            body +=
                "<h2>Helårsprognos</h2>"
                + bars(
                    title:
                        "\(maps.lineByID[resultLine]!.name) enligt prognosmetod, tkr (budget \(Ore.formatWhole(Ore(Int64(p["budget_year_ore"]!)!).tkr)))",
                    labels: methods.map(\.0), series: [("Prognos", "#c55a11", methods.map { m in Int64(p[m.1] ?? "").map { Ore($0).tkr } })])
            body += "<p class=\"m\">Vald metod: \(escape(p["forecast_method"]!)).</p>"
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
                    series: [("Prognos", "#7f6000", values)])
        }

        // Deviation by unit (first level under the root), net cost to date against budget to date.
        let firstLevel = maps.units.units.filter { $0.parent == root }
        let devs = firstLevel.map { u in
            avvikelse.first { $0["unit"] == u.id && $0["line"] == netLine }.flatMap { Int64($0["deviation_ytd_ore"]!) }.map { Ore($0).tkr }
        }
        body +=
            "<h2>Avvikelse per verksamhet</h2>"
            + bars(
                title: "Avvikelse mot budget t.o.m. \(cfg.asOf), tkr (positiv = överskott)", labels: firstLevel.map(\.name),
                series: [("Avvikelse", "#548235", devs)])

        // The committee's tables (seeds 002–004), as tabeller.txt shows them.
        for t in committee where t.rows.count > 1 {
            body += "<h2>\(escape(t.title))</h2>" + table(t.rows[0], Array(t.rows.dropFirst()), sumRows: t.sums)
        }

        let css = """
            body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#222;max-width:960px}h1{font-size:22px}h2{font-size:17px;margin-top:28px}
            table{border-collapse:collapse;font-size:13px}th,td{padding:3px 10px;border-bottom:1px solid #ddd}th{background:#f0f0f0}
            .n{text-align:right}tr.s td{font-weight:bold}.m{color:#555;font-size:12px}svg .t{font-size:13px;font-weight:bold}
            svg .a{font-size:11px;fill:#444}svg .g{stroke:#e3e3e3}svg .z{stroke:#888}
            """
        return
            "<!DOCTYPE html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>\(escape(rootName)) \(cfg.asOf)</title><style>\(css)</style></head><body>\(body)</body></html>\n"
    }
}
