import Foundation
import RamkollModel

/// A run that ends with a data error (exit 65) still writes every output, for the controller to
/// look at — and every deliverable says so where a reader starts: the head of each text table, a
/// banner at the top of the HTML report, a first sheet in the workbook and a status in
/// `tables.json`. A stage knows the data errors of the stages before it from their manifests
/// (`data_errors`, and normalize's rows against the reject limit) and its own.
enum DataErrors {
    /// The reject limit's message, when the sources' rejected rows are over it (Runner's status uses it too).
    static func rejectLimit(rejected: Int64, read: Int64, limit: Int64) -> String? {
        guard read > 0, rejected * 10_000 > limit * read else { return nil }
        return "\(rejected) of \(read) rows rejected, above the limit of \(Ore.formatPercent(limit)) % — see 02-normalize/rejects.csv"
    }

    /// The data errors recorded by the stages before `stage` in this run's folder.
    static func upstream(_ context: StageContext, before stage: StageName) -> [String] {
        var out: [String] = []
        for s in StageName.allCases where s < stage {
            guard let m = try? StageManifest.read(from: context.directory(s)) else { continue }
            out += m.dataErrors ?? []
            if s == .normalize, let read = m.totals["limit.rows_read"], let rejected = m.totals["limit.rows_rejected"],
                let e = rejectLimit(rejected: rejected, read: read, limit: context.config.rejectLimit)
            {
                out.append(e)
            }
        }
        return out
    }

    static let heading =
        "DATAFEL: körningen slutar med datafel (exit 65). Tabellerna bygger på indata som saknar rader eller belopp och ska inte publiceras förrän felen är rättade."

    /// The head of a text table ("" when there is no error).
    static func textBanner(_ errors: [String]) -> String {
        guard !errors.isEmpty else { return "" }
        return "*** " + heading + "\n" + errors.map { "*** - " + $0 + "\n" }.joined() + "\n"
    }

    /// The top of the HTML report ("" when there is no error).
    static func htmlBanner(_ errors: [String]) -> String {
        guard !errors.isEmpty else { return "" }
        return
            "<div class=\"datafel\" role=\"alert\" style=\"border:3px solid #b00020;background:#fdecea;color:#5f0010;padding:10px 14px;margin:0 0 18px\"><strong>"
            + HTMLReport.escape(heading) + "</strong><ul>"
            + errors.map { "<li>" + HTMLReport.escape($0) + "</li>" }.joined() + "</ul></div>\n"
    }
}
