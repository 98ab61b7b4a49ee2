import Foundation
import RamkollModel

/// Placement invoices matched to the care delivered, per placement × month, where the ledger text
/// carries the placement and the month invoiced (`case_reconciliation.invoice_reference`).
/// A difference is explained when it can be exactly: the invoiced amount is a whole number of days
/// at the agreed price (a difference in days), or the delivered days at another whole price (a
/// difference in price); otherwise it is an amount difference.
enum InvoiceMatching {
    struct Key: Hashable, Comparable {
        let placement: String, month: Period
        static func < (a: Key, b: Key) -> Bool { (a.placement, a.month) < (b.placement, b.month) }
    }

    /// Finds the placement and the invoiced month in a ledger text.
    struct Reference {
        let regex: NSRegularExpression
        init?(_ pattern: String?) {
            guard let pattern, let re = try? NSRegularExpression(pattern: pattern) else { return nil }
            regex = re
        }
        func find(_ text: String, bookedIn period: Period) -> Key? {
            let range = NSRange(text.startIndex..., in: text)
            guard let m = regex.firstMatch(in: text, range: range),
                let pr = Range(m.range(withName: "placement"), in: text), let mr = Range(m.range(withName: "month"), in: text)
            else { return nil }
            let monthText = String(text[mr])
            if let p = Period(monthText) { return Key(placement: String(text[pr]), month: p) }
            guard monthText.count == 2, let mm = Int(monthText), (1...12).contains(mm) else { return nil }
            // MM: the latest such month not after the booking period (a January invoice for 12 is December's).
            let year = mm <= period.month ? period.year : period.year - 1
            return Key(placement: String(text[pr]), month: Period(year: year, month: mm)!)
        }
    }

    /// Joins the care delivered (placement × month, up to the as-of period) with the amounts
    /// invoiced, in placement × month order, through the tally's sorter (memory does not grow with
    /// the placements): a placement's marker comes first, so it is known before its months.
    static func write(
        directory dir: String, care: inout CareDayTally, invoiced: [Key: Ore], tolerance: Ore, asOf: Period
    ) throws -> (OutputRecord, [String: Int64]) {
        let out = try TableWriter(
            directory: dir, name: "invoice_matching.csv",
            header: [
                "placement_id", "person", "unit", "month", "care_days", "price_ore", "delivered_ore", "invoiced_ore", "difference_ore", "finding",
                "detail",
            ])
        for (key, amount) in invoiced {
            try care.addMatching(placement: key.placement, month: Int64(key.month.year * 12 + key.month.month - 1), kind: .invoiced) { r in
                r.field(amount.value)
            }
        }
        let asOfMonth = Int64(asOf.year * 12 + asOf.month - 1)
        var counts: [String: Int64] = [:]
        // The placement and month being gathered: its care (the last record read wins, as a
        // dictionary of placement-months would keep) and its invoiced amount.
        var placement: String?, known = false
        var month: Int64?
        var delivered: CareDayTally.PlacementMonth?, inv: Ore?
        func emit() throws {
            guard let placement, let month, delivered != nil || inv != nil else { return }
            let period = Period(year: Int(month / 12), month: Int(month % 12) + 1)!
            let pm = delivered
            let inv = inv ?? .zero
            let cost = pm?.cost ?? .zero
            let price = pm.flatMap { priceInForce($0.prices, $0.period) }
            var finding: String, detail = ""
            if let pm {
                let days = Int64(pm.days)
                if (inv - cost).value.magnitude <= tolerance.value.magnitude {
                    finding = "matched"
                } else if inv == .zero {
                    finding = "not-invoiced"
                } else if let price, price.value != 0, inv.value % price.value == 0 {
                    finding = "days-difference"
                    detail = "invoiced \(inv.value / price.value) days, delivered \(days)"
                } else if days > 0, inv.value % days == 0 {
                    finding = "price-difference"
                    detail = "invoiced \(Ore(inv.value / days).swedish) kr a day, agreed \(price.map { $0.swedish } ?? "?") kr"
                } else {
                    finding = "amount-difference"
                }
            } else {
                finding = known ? "days-difference" : "invoiced-without-placement"
                detail = known ? "invoiced for a month without care days" : "the case system has no placement \(placement)"
            }
            counts[finding, default: 0] += 1
            try out.write([
                placement, pm?.person ?? "", pm?.unit ?? "", period.description, pm.map { String($0.days) } ?? "0",
                price.map { String($0.value) } ?? "", String(cost.value), String(inv.value), String((inv - cost).value), finding, detail,
            ])
        }
        guard let sorted = care.matching else { preconditionFailure("the tally was made without invoice matching") }
        try sorted.forEach { bytes in
            var r = SortRecord.Reader(bytes)
            let p = r.key(), m = r.int(), kind = CareDayTally.MatchingKind(rawValue: r.int())!
            _ = r.int()
            if p != placement || m != month {
                try emit()
                if p != placement { placement = p; known = false }
                month = m; delivered = nil; inv = nil
            }
            switch kind {
            case .known: known = true
            case .delivered:
                guard m <= asOfMonth else { return }
                let person = r.field(), unit = r.field(), days = Int(r.fieldInt()), cost = Ore(r.fieldInt()), prices = r.field()
                delivered = CareDayTally.PlacementMonth(
                    id: p, person: person, unit: unit, period: Period(year: Int(m / 12), month: Int(m % 12) + 1)!, days: days, cost: cost,
                    prices: prices)
            case .invoiced: inv = (inv ?? .zero) + Ore(r.fieldInt())
            }
        }
        try emit()
        return (try out.commit(), counts)
    }

    /// The price of a month when one price applies to all of it (the first price applies from the
    /// stay's start, so its date is not a change); nil when the price changes within the month.
    static func priceInForce(_ text: String, _ month: Period) -> Ore? {
        let prices = (try? CareDayTally.prices(text, fallback: PricePeriod(from: month.firstDay, price: .zero), path: "", line: 0)) ?? []
        let inMonth = prices.dropFirst().filter { $0.from > month.firstDay && $0.from <= month.lastDay }
        guard inMonth.isEmpty else { return nil }  // the price changes within the month
        return prices.last { $0.from <= month.lastDay }?.price ?? prices.first?.price
    }
}
