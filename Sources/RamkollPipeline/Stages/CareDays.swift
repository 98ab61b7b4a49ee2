import RamkollModel
import RamkollReaders

/// Care days (vårddygn) and their cost per unit × month × form of care, from normalized placements,
/// counted by the pipeline's care-day convention: by default inclusive of the first
/// and the last day, clipped to the month; a placement without an end date runs to the month's end.
/// Only months of the fiscal year up to the as-of period are counted.
struct CareDayTally {
    struct Key: Hashable, Comparable {
        let unit: String; let period: Period; let form: String
        static func < (a: Key, b: Key) -> Bool { (a.unit, a.period, a.form) < (b.unit, b.period, b.form) }
    }
    struct Value {
        var placements: Int64 = 0; var days: Int64 = 0; var cost = Ore.zero
        /// One more placement with days (and their cost) in the cell.
        mutating func add(days d: Int, cost c: Ore) { placements += 1; days += Int64(d); cost += c }
        /// Another value's placements, days and cost.
        mutating func add(_ v: Value) { placements += v.placements; days += v.days; cost += v.cost }
    }

    var cells: [Key: Value] = [:]
    /// For the volume tables: care days and their cost per unit × form × legal basis × year, this
    /// year to the as-of month and the whole previous year, from the placements the extracts hold.
    struct VolumeKey: Hashable { let unit: String, form: String, basis: String, year: Int }
    var volume: [VolumeKey: Value] = [:]
    /// For the volume tables' persons in care: one record per placement with care days in either
    /// year — person, unit, form, basis and a mask of the years (1: the previous, 2: this to date)
    /// — sorted by person, so each person is counted once per table and year while memory holds one.
    let persons: ExternalSorter?
    /// One row per placement × month with care days: the basis of the accrual list and of invoice
    /// matching. Held in external sorters, not in memory (an extract may hold millions):
    /// `matching` by placement × month (with one marker per mapped placement, so that a placement
    /// is known before its months), `accrualMonths` by unit, latest month first. Filled only for
    /// the outputs the pipeline writes.
    struct PlacementMonth {
        let id: String; let person: String; let unit: String; let period: Period; let days: Int; let cost: Ore; let prices: String
    }
    let matching: ExternalSorter?
    let accrualMonths: ExternalSorter?
    /// Stays per person (pseudonym), to find overlapping placements: sorted by person, start, id.
    struct Stay { let id: String; let start: Day; let end: Day?; let line: Int }
    let stays: ExternalSorter
    private var sequence: Int64 = 0

    /// Kinds of `matching` records within a placement: the marker sorts first, then per month the
    /// care delivered and the amount invoiced.
    enum MatchingKind: Int64 { case known = 0, delivered = 1, invoiced = 2 }

    init(spill: String, matching: Bool, accruals: Bool, persons: Bool = false) {
        self.persons = persons ? ExternalSorter(directory: spill, name: "persons") : nil
        self.matching = matching ? ExternalSorter(directory: spill, name: "matching") : nil
        accrualMonths = accruals ? ExternalSorter(directory: spill, name: "accruals") : nil
        stays = ExternalSorter(directory: spill, name: "stays")
    }

    private mutating func next() -> Int64 { sequence += 1; return sequence }

    /// A placement's person for the volume tables' persons in care (years: 1 previous, 2 this to date).
    mutating func addPerson(_ person: String, unit: String, form: String, basis: String, years: Int64) throws {
        guard let persons, years != 0 else { return }
        var r = SortRecord()
        r.key(person); r.key(next())
        r.field(unit); r.field(form); r.field(basis); r.field(years)
        try persons.add(r)
    }

    mutating func addMatching(placement: String, month: Int64, kind: MatchingKind, _ fields: (inout SortRecord) -> Void) throws {
        guard let matching else { return }
        var r = SortRecord()
        r.key(placement); r.key(month); r.key(kind.rawValue); r.key(next())
        fields(&r)
        try matching.add(r)
    }

    private mutating func addPlacementMonth(_ pm: PlacementMonth) throws {
        let month = Int64(pm.period.year * 12 + pm.period.month - 1)
        try addMatching(placement: pm.id, month: month, kind: .delivered) { r in
            r.field(pm.person); r.field(pm.unit); r.field(Int64(pm.days)); r.field(pm.cost.value); r.field(pm.prices)
        }
        if let accrualMonths {
            var r = SortRecord()
            r.key(pm.unit); r.keyDescending(month); r.keyDescending(pm.id); r.key(next())
            r.field(pm.person); r.field(Int64(pm.days)); r.field(pm.cost.value); r.field(pm.prices)
            try accrualMonths.add(r)
        }
    }

    /// The placement-months of `unit`s, each unit's latest month first (ties: the greater id, then
    /// the order read), unit by unit in order.
    func forEachAccrualMonth(_ body: (PlacementMonth) throws -> Void) throws {
        try accrualMonths?.forEach { bytes in
            var r = SortRecord.Reader(bytes)
            let unit = r.key(), month = Int(r.intDescending()), id = r.keyDescending()
            _ = r.int()
            let person = r.field(), days = Int(r.fieldInt()), cost = Ore(r.fieldInt()), prices = r.field()
            try body(
                PlacementMonth(
                    id: id, person: person, unit: unit, period: Period(year: month / 12, month: month % 12 + 1)!, days: days, cost: cost,
                    prices: prices))
        }
    }

    /// Per unit, what the activity-based forecast needs: the cost still committed
    /// after the as-of period (each placement's price × its remaining days to its end or the year
    /// end), placements active at the close of the as-of month, the year's starts so far with the
    /// sum of their starting daily prices, and the lengths of placements that have ended.
    struct Outlook {
        var committedRemaining = Ore.zero
        var active: Int64 = 0
        var starts: Int64 = 0
        var startPriceSum = Ore.zero
        var endedCount: Int64 = 0
        var endedDays: Int64 = 0
    }
    var outlook: [String: Outlook] = [:]
    var placementsRead: Int64 = 0
    /// The absolute total of the care-day costs and start prices (bounded like every input's amounts).
    var costs = MoneyTally()
    var placementsMapped: Int64 = 0
    /// Placements of previous-year extracts (`previous_year: true`), mapped to a unit.
    var previousYearPlacements: Int64 = 0
    var unmapped: [String: Int64] = [:]  // ansvar → placements

    /// The unit, form of care and legal basis of the care-day path as small numbers: each row looks
    /// its strings up once, and its months add to cells keyed by numbers (a `String`-keyed cell
    /// would hash its strings again for every month of every placement).
    struct Names {
        private var ids: [String: Int] = [:]
        private(set) var names: [String] = []
        mutating func id(_ s: String) -> Int {
            if let i = ids[s] { return i }
            ids[s] = names.count
            names.append(s)
            return names.count - 1
        }
    }

    /// A column's values as small numbers, found by their bytes (`ByteKeyTable`): a row's ansvar,
    /// form of care or source is looked up without making a String or hashing one (Swift's
    /// String hash normalizes text such as "§" first). The values are kept as Strings once each,
    /// for the outputs.
    struct ByteNames {
        private var table = ByteKeyTable(capacity: 64)
        private(set) var strings: [String] = []

        /// The number of these bytes, and whether they are new.
        mutating func id(_ b: UnsafeBufferPointer<UInt8>) -> (id: Int, new: Bool) {
            let (id, new) = table.index(of: b)
            if new { strings.append(String(decoding: b, as: UTF8.self)) }
            return (id, new)
        }
    }

    /// Cells by numbers, hashed as one mixed number (one `combine`, not one per field; equal
    /// cells are still told apart by all their fields).
    struct CellID: Hashable {
        let unit: Int, period: Period, form: Int
        func hash(into h: inout Hasher) {
            h.combine(unit &* 0x1E37_79B9_7F4A_7C15 &+ form &* 0x2545_F491_4F6C_DD1D &+ period.year &* 12 &+ period.month)
        }
    }
    struct VolumeID: Hashable {
        let unit: Int, form: Int, basis: Int, year: Int
        func hash(into h: inout Hasher) {
            h.combine(unit &* 0x1E37_79B9_7F4A_7C15 &+ form &* 0x2545_F491_4F6C_DD1D &+ basis &* 0x1656_67B1_9E37_79F9 &+ year)
        }
    }

    /// Reads placements.csv; `spill` is where the sorters may write their runs (removed after).
    static func tally(path: String, config: PipelineConfig, mappings: MappingTables, spill: String, matching: Bool, accruals: Bool) throws
        -> CareDayTally
    {
        var t = CareDayTally(spill: spill, matching: matching, accruals: accruals, persons: !config.volumeTables.isEmpty)
        // The months as ordinals of their first and last days, worked out once.
        let months = Period.months(ofYear: config.fiscalYear).filter { $0 <= config.asOf }.map(OrdinalPeriod.init)
        let remaining = Period.months(ofYear: config.fiscalYear).filter { $0 > config.asOf }.map(OrdinalPeriod.init)
        let previousMonths = Period.months(ofYear: config.fiscalYear - 1).map(OrdinalPeriod.init)
        // Placement-months are kept only for the outputs that read them.
        let keepsMonths = matching || accruals
        let close = config.asOf.lastDay
        // The unit of each ansvar code, looked up once per code (the rules are scanned per lookup),
        // by the code's number in `ansvars`.
        var ansvars = ByteNames(), unitOfAnsvar: [Int?] = []
        var units = Names(), forms = ByteNames(), bases = ByteNames()
        var cells: [CellID: Value] = [:], volume: [VolumeID: Value] = [:]
        var outlook: [Outlook?] = []  // by unit number
        // A previous year's extract gives last year's days alone; with one, the current extracts' days
        // of last year are left out (a placement in both would be counted twice).
        let previousSources = Set(config.sources.filter(\.previousYear).map(\.id))
        var sources = ByteNames(), sourceIsPrevious: [Bool] = []
        let table = try TableReader(
            path: path,
            required: [
                "source", "file", "line", "placement_id", "person", "ansvar", "form_of_care", "legal_basis", "start", "end", "daily_price_ore",
                "price_periods",
            ])
        // Columns by position, found once.
        let cSource = table.column("source"), cFile = table.column("file"), cLine = table.column("line")
        let cID = table.column("placement_id"), cPerson = table.column("person"), cAnsvar = table.column("ansvar")
        let cForm = table.column("form_of_care"), cBasis = table.column("legal_basis"), cStart = table.column("start")
        let cEnd = table.column("end"), cDaily = table.column("daily_price_ore"), cPrices = table.column("price_periods")
        try table.forEachReadAhead { row in
            t.placementsRead += 1
            var ofPreviousYear = false, ansvarID = 0, formID = 0, basisID = 0
            row.withField(cSource) { b in
                let (i, new) = sources.id(b)
                if new { sourceIsPrevious.append(previousSources.contains(sources.strings[i])) }
                ofPreviousYear = sourceIsPrevious[i]
            }
            // The unit the ansvar belongs to at the as-of period; otherwise any rule for the code, regardless of validity.
            row.withField(cAnsvar) { b in
                let (i, new) = ansvars.id(b)
                if new {
                    let code = ansvars.strings[i]
                    unitOfAnsvar.append(
                        (mappings.ansvar.lookup(code, at: config.asOf)?.target ?? mappings.ansvar.lookup(code)?.target).map { units.id($0) })
                }
                ansvarID = i
            }
            guard let unitID = unitOfAnsvar[ansvarID] else {
                t.unmapped[ansvars.strings[ansvarID], default: 0] += 1
                return
            }
            if ofPreviousYear { t.previousYearPlacements += 1 } else { t.placementsMapped += 1 }
            let unit = units.names[unitID]
            row.withField(cForm) { formID = forms.id($0).id }
            row.withField(cBasis) { basisID = bases.id($0).id }
            let form = forms.strings[formID], basis = bases.strings[basisID]
            // One String per field and placement, shared by its months (not one per month).
            let id = row[column: cID], person = row[column: cPerson], priceText = row[column: cPrices]
            guard let start = Day(iso: row[column: cStart]) else {
                throw RamkollError(.input, "\(path):\(row.line): start is not a date; rerun normalize")
            }
            let endText = row[column: cEnd]
            let end = endText.isEmpty ? nil : Day(iso: endText)
            let daily = try row.int(column: cDaily)
            guard daily.magnitude <= Ore.rowLimit else {
                throw RamkollError(.input, "\(path):\(row.line): daily_price_ore is beyond the largest amount; rerun normalize")
            }
            let prices = try CareDayTally.prices(
                priceText, fallback: PricePeriod(from: start, price: Ore(daily)), path: path, line: row.line)
            // A day's cost is at most Ore.rowLimit, a month's 31 times that; the costs and prices
            // are counted before they are added up (see Ore.runLimit). The export's file and line
            // are read only for the message of a tally past the limit.
            let sourceLine = (try? row.int(column: cLine)).map { Int($0) } ?? row.line
            func count(_ cost: Ore) throws {
                try t.costs.count(cost, file: row[column: cFile], line: sourceLine, what: "the care-day costs and prices of the placements")
            }
            try count(prices[0].price)
            let ordinals = OrdinalStay(start: start, end: end, prices: prices)
            /// Last year's days for the volume tables; 1 (the previous year's bit) when there were any.
            func previousYearDays() throws -> Int64 {
                var total = Value()
                for p in previousMonths where p.period >= start.period && (end.map { p.period <= $0.period } ?? true) {
                    let (days, cost) = config.careDays.daysAndCost(ordinals, in: p)
                    guard days > 0 else { continue }
                    try count(cost)
                    total.add(days: days, cost: cost)
                }
                guard total.placements > 0 else { return 0 }
                // The volume cell counts the placement's months with days, as one add per month did.
                volume[VolumeID(unit: unitID, form: formID, basis: basisID, year: config.fiscalYear - 1), default: Value()].add(total)
                return 1
            }
            // A previous year's extract: last year's days and persons for the volume tables, nothing else.
            if ofPreviousYear {
                try t.addPerson(person, unit: unit, form: form, basis: basis, years: try previousYearDays())
                return
            }
            var stay = SortRecord()
            stay.key(person); stay.key(CareDayTally.number(start)); stay.key(id); stay.key(t.next())
            stay.field(end.map(CareDayTally.number) ?? Int64.min); stay.field(Int64(row.line))
            try t.stays.add(stay)
            try t.addMatching(placement: id, month: Int64.min, kind: .known) { _ in }
            if unitID >= outlook.count { outlook += [Outlook?](repeating: nil, count: unitID + 1 - outlook.count) }
            var o = outlook[unitID] ?? Outlook()
            // Committed: placements begun by the close. One the extract holds with a later start is
            // left to the expected-new estimate, so the forecast does not depend on how far ahead an
            // extract reaches.
            // Months the stay cannot touch count no days: only those from its start to its end are counted.
            let first = start.period, last = end?.period
            func touched(_ p: OrdinalPeriod) -> Bool { p.period >= first && (last.map { p.period <= $0 } ?? true) }
            if start <= close {
                for p in remaining where touched(p) {
                    let cost = config.careDays.daysAndCost(ordinals, in: p).cost
                    try count(cost)
                    o.committedRemaining += cost
                }
            }
            if start <= close && (end.map { $0 > close } ?? true) { o.active += 1 }
            if start.year == config.fiscalYear && start <= close { o.starts += 1; o.startPriceSum += prices[0].price }
            if let e = end, e <= close, e >= start { o.endedCount += 1; o.endedDays += Int64(e.ordinal - start.ordinal + 1) }
            outlook[unitID] = o
            var years: Int64 = previousSources.isEmpty && first.year < config.fiscalYear ? try previousYearDays() : 0
            var thisYear = Value()
            for p in months where touched(p) {
                let (days, cost) = config.careDays.daysAndCost(ordinals, in: p)
                guard days > 0 else { continue }
                try count(cost)
                // One lookup: the cell is changed where it lies.
                cells[CellID(unit: unitID, period: p.period, form: formID), default: Value()].add(days: days, cost: cost)
                thisYear.add(days: days, cost: cost)
                if keepsMonths {
                    try t.addPlacementMonth(
                        PlacementMonth(id: id, person: person, unit: unit, period: p.period, days: days, cost: cost, prices: priceText))
                }
            }
            if thisYear.placements > 0 {
                // One volume lookup per placement: its cell counts the placement's months with days.
                volume[VolumeID(unit: unitID, form: formID, basis: basisID, year: config.fiscalYear), default: Value()].add(thisYear)
                years |= 2
            }
            try t.addPerson(person, unit: unit, form: form, basis: basis, years: years)
        }
        let u = units.names, f = forms.strings, b = bases.strings
        for (k, v) in cells { t.cells[Key(unit: u[k.unit], period: k.period, form: f[k.form])] = v }
        for (k, v) in volume { t.volume[VolumeKey(unit: u[k.unit], form: f[k.form], basis: b[k.basis], year: k.year)] = v }
        for (k, v) in outlook.enumerated() { if let v { t.outlook[u[k]] = v } }
        return t
    }

    /// Placements of one person whose stays share days (an open stay runs to `until`), in start
    /// order: each stay that begins before an earlier one of the person has ended is paired with
    /// the earlier stay that reaches furthest. One pair per overlapping stay, so the list grows
    /// with the placements, not with their square; a sweep, so memory holds one stay.
    func forEachOverlap(until: Day, _ body: (_ person: String, _ a: Stay, _ b: Stay, _ from: Day, _ to: Day) throws -> Void) throws {
        // The person's pseudonym as bytes, compared with the next record's without making a
        // String of each; the String is made when the person changes.
        var personBytes: [UInt8] = [], who = ""
        var reach: (stay: Stay, end: Day)?
        try stays.forEach { bytes in
            var r = SortRecord.Reader(bytes)
            let key = r.keyBytes()
            if reach == nil || !key.elementsEqual(personBytes) {
                personBytes.removeAll(keepingCapacity: true); personBytes.append(contentsOf: key)
                who = String(decoding: key, as: UTF8.self)
                reach = nil
            }
            let start = CareDayTally.day(r.int()), id = r.key()
            _ = r.int()
            let end = r.fieldInt(), line = Int(r.fieldInt())
            let b = Stay(id: id, start: start, end: end == Int64.min ? nil : CareDayTally.day(end), line: line)
            let bEnd = b.end ?? until
            if let (a, aEnd) = reach, b.start <= aEnd { try body(who, a, b, b.start, min(aEnd, bEnd)) }
            if reach.map({ bEnd > $0.end }) ?? true { reach = (b, bEnd) }
        }
    }

    /// A day as YYYYMMDD (ordered as days are), and back.
    static func number(_ d: Day) -> Int64 { Int64(d.year * 10000 + d.month * 100 + d.day) }
    static func day(_ n: Int64) -> Day { Day(year: Int(n / 10000), month: Int(n / 100 % 100), day: Int(n % 100))! }

    /// Parses `2022-01-05:345000|2022-07-01:360000`.
    static func prices(_ text: String, fallback: PricePeriod, path: String, line: Int) throws -> [PricePeriod] {
        if text.isEmpty { return [fallback] }
        // `YYYY-MM-DD:öre|…` read from the bytes (once per placement: no substrings).
        var t = text
        let prices = t.withUTF8 { u -> [PricePeriod]? in
            var out: [PricePeriod] = []
            var at = 0
            while true {
                guard at + 11 < u.count, u[at + 10] == UInt8(ascii: ":") else { return nil }
                guard let d = DateLayout.isoDate.parse(buffer: UnsafeBufferPointer(rebasing: u[at..<(at + 10)]))?.day else { return nil }
                var k = at + 11
                var end = k
                while end < u.count && u[end] != UInt8(ascii: "|") { end += 1 }
                var negative = false
                if k < end && u[k] == UInt8(ascii: "-") { negative = true; k += 1 }
                guard k < end, end - k <= 15 else { return nil }  // within Ore.rowLimit, as normalize wrote it
                var v: Int64 = 0
                while k < end {
                    let c = u[k]
                    guard c >= 48 && c <= 57 else { return nil }
                    v = v * 10 + Int64(c - 48); k += 1
                }
                guard v <= Ore.rowLimit else { return nil }
                out.append(PricePeriod(from: d, price: Ore(negative ? -v : v)))
                if end == u.count { return out }
                at = end + 1
            }
        }
        guard let prices else { throw RamkollError(.input, "\(path):\(line): price_periods \"\(text)\" cannot be read; rerun normalize") }
        return prices
    }
}
