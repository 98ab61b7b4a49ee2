import RamkollModel

/// The words the committee's deliverables (workbook, `*_kalkyl.csv`, HTML, text) show for
/// Ramkoll's machine values: yes/no, forecast methods, month names. The machine-readable files
/// (`tables.json`, the stages' CSV) keep the machine values.
enum Swedish {
    static let months = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"]

    /// "juni" for 2022-06.
    static func month(_ p: Period) -> String { months[p.month - 1] }

    /// The short names committee documents use in column labels ("t.o.m. aug", "Årsprognos sept").
    static let shortMonths = ["jan", "feb", "mars", "april", "maj", "juni", "juli", "aug", "sept", "okt", "nov", "dec"]
    static func shortMonth(_ p: Period) -> String { shortMonths[p.month - 1] }

    /// Forecast methods as the committee reads them.
    static let methods = [
        "run-rate": "årstakt", "ytd-plus-budget": "utfall + återstående budget", "seasonal": "säsongsmönster",
        "activity-based": "verksamhetsbaserad", "driver-based": "volym × snittbelopp", "manual": "manuell",
    ]

    /// A machine value in a deliverable's cell: yes/no as ja/nej, method names in Swedish (a
    /// list "a with b, c" word by word); other values as they are.
    static func value(_ v: String, column: String) -> String {
        switch column {
        case "over_threshold": return v == "yes" ? "ja" : v == "no" ? "nej" : v
        case "forecast_method":
            guard !v.isEmpty else { return v }
            let parts = v.components(separatedBy: " with ")
            let main = methods[parts[0]] ?? parts[0]
            guard parts.count > 1 else { return main }
            let others = parts[1].components(separatedBy: ", ").map { methods[$0] ?? $0 }
            return main + " (med " + others.joined(separator: ", ") + ")"
        default: return v
        }
    }
}
