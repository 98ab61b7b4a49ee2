import Foundation
import RamkollModel
import RamkollReaders

/// Key of the reconciliation grid.
struct GridKey: Hashable { let unit: String; let line: String; let period: Period }

/// Reconcile: map every normalized posting to a unit (by ansvar) and a report line (by account),
/// convert to report sign, and set actuals against the periodised budget per unit × line × month
/// with year-to-date sums. Postings that cannot be mapped are exceptions with their amounts;
/// postings outside the year are counted by reason. Nothing is dropped without a count.
public struct ReconcileStage: Stage {
    public let name = StageName.reconcile
    public init() {}

    static let gridHeader = ["unit", "line", "period", "budget_ore", "actual_ore", "budget_ytd_ore", "actual_ytd_ore", "previous_year_actual_ore"]

    /// Σ amount_ore of a budget.csv, read again on its own for the identity above.
    private func budgetFileTotal(_ path: String) throws -> Int64 {
        var total: Int64 = 0
        try TableReader(path: path, required: ["amount_ore"]).forEach { total += try $0.int("amount_ore") }
        return total
    }

    struct ControlKey: Hashable, Comparable {
        let scope: String, key: String
        static func < (a: ControlKey, b: ControlKey) -> Bool { (a.scope, a.key) < (b.scope, b.key) }
    }
    struct ControlValue {
        var rows: Int64 = 0, amount = Ore.zero
        mutating func add(rows r: Int64, amount a: Ore) { rows += r; amount += a }
    }

    /// Where the external sorters spill, inside the stage's folder: named like the temporary files
    /// a killed run leaves, which the next run of the stage removes.
    static let spillFolder = ".sort.tmp-spill"

    public func run(_ context: StageContext) throws -> StageResult {
        let cfg = context.config, maps = context.mappings
        let fy = cfg.fiscalYear, asOf = cfg.asOf
        let ledgerGroups = try context.output(of: .normalize, named: "ledger_groups.csv")
        let budget = try context.output(of: .normalize, named: "budget.csv")
        let budgetAccounts = try context.output(of: .normalize, named: "budget_accounts.csv")
        let placements = try context.output(of: .normalize, named: "placements.csv")
        let decisions = try context.output(of: .normalize, named: "decisions.csv")
        let payments = try context.output(of: .normalize, named: "payments.csv")
        let planFile = try context.output(of: .normalize, named: "plan.csv")
        let plan = try Plan.load(path: planFile.path, asOf: asOf)

        var actual: [GridKey: Ore] = [:]  // report sign, current year up to as-of
        var previous: [GridKey: Ore] = [:]  // report sign, previous year (period keyed to this year's month)
        var budgetGrid: [GridKey: Ore] = [:]
        var exceptions = ExceptionLog()
        var control: [ControlKey: ControlValue] = [:]
        let mapper = PostingMapper(maps)
        var placementLedger: [GridCell: Ore] = [:]  // ledger sign, placement accounts, this year to as-of
        var placementLedgerPrevious: [GridCell: Ore] = [:]  // the same, previous year
        let reference = InvoiceMatching.Reference(cfg.caseReconciliation?.invoiceReference)
        var invoicedByPlacement: [InvoiceMatching.Key: Ore] = [:]
        var invoicesWithoutReference: Int64 = 0
        var assistanceLedger: [Period: Ore] = [:]  // ledger sign, assistance accounts, this year to as-of
        let assistanceAccounts = cfg.assistance?.accounts ?? []
        var n: [String: Int64] = [:]
        var a: [String: Int64] = [:]
        // Investments: the postings on the investment accounts, beside (not instead of) their
        // mapping as balance-sheet accounts.
        var investments = maps.investments.map { InvestmentBook(map: $0, fiscalYear: fy, asOf: asOf) }

        // The ledger as normalize summed it (source × period × account × ansvar × invoice
        // reference): each group is mapped once, in the order the groups first appear.
        func isPlacementAccount(_ account: String) -> Bool { cfg.caseReconciliation?.isPlacementAccount(account.utf8) ?? false }
        try TableReader(
            path: ledgerGroups.path,
            required: ["file", "period", "account", "ansvar", "placement", "invoice_month", "rows", "amount_ore", "first_line"]
        ).forEach { row in
            let amount = Ore(try row.int("amount_ore")), rows = try row.int("rows"), period = try row.period("period")
            func count(_ k: String) { n[k, default: 0] += rows; a[k, default: 0] += amount.value }
            count("in")
            let file = row["file"]
            control[ControlKey(scope: "file", key: file), default: ControlValue()].add(rows: rows, amount: amount)
            control[ControlKey(scope: "period", key: period.description), default: ControlValue()].add(rows: rows, amount: amount)
            if investments != nil,
                let kind = investments!.add(account: row["account"], period: period, rows: rows, amount: amount)
            {
                exceptions.record(
                    kind, account: row["account"], ansvar: row["ansvar"], year: period.year, rows: rows, amount: amount,
                    at: "\(file):\(row["first_line"])")
            }
            let current = period.year == fy && period <= asOf
            let prior = period.year == fy - 1
            if period.year == fy && period > asOf { count("after_as_of"); return }
            if !current && !prior { count("other_years"); return }
            let account = row["account"], ansvarCode = row["ansvar"]
            let unit: String, line: String
            switch mapper.map(account: account, ansvar: ansvarCode, period: period) {
            case .mapped(let u, let l): (unit, line) = (u, l)
            case .excluded: count("excluded_by_mapping"); return
            case let outcome:
                let kind = outcome == .unmappedAccount ? "unmapped-account" : "unmapped-ansvar"
                count(kind.replacingOccurrences(of: "-", with: "_"))
                exceptions.record(
                    kind, account: account, ansvar: ansvarCode, year: period.year, rows: rows, amount: amount, at: "\(file):\(row["first_line"])")
                return
            }
            let report = SignConvention.reportSign(fromLedger: amount)
            control[ControlKey(scope: "report_line", key: "\(period.year) \(line)"), default: ControlValue()].add(rows: rows, amount: report)
            let key = GridKey(unit: unit, line: line, period: Period(year: fy, month: period.month)!)
            if current {
                actual[key, default: .zero] += report; count("current_year")
                if assistanceAccounts.contains(where: { account.hasPrefix($0) }) { assistanceLedger[period, default: .zero] += amount }
                if isPlacementAccount(account) {
                    placementLedger[GridCell(unit: unit, period: period), default: .zero] += amount
                    if reference != nil {
                        if !row["placement"].isEmpty, let month = Period(row["invoice_month"]) {
                            invoicedByPlacement[InvoiceMatching.Key(placement: row["placement"], month: month), default: .zero] += amount
                        } else {
                            invoicesWithoutReference += rows
                        }
                    }
                }
            } else {
                previous[key, default: .zero] += report; count("previous_year")
                if isPlacementAccount(account) { placementLedgerPrevious[GridCell(unit: unit, period: period), default: .zero] += amount }
            }
        }

        // Budget versions decided after the as-of period are not yet in force: counted, not used.
        var budgetRows: Int64 = 0, budgetTotal = Ore.zero, budgetLaterRows: Int64 = 0, budgetLater = Ore.zero
        try TableReader(path: budget.path, required: ["unit", "report_line", "period", "amount_ore", "version", "decided"]).forEach { row in
            let k = GridKey(unit: row["unit"], line: row["report_line"], period: try row.period("period"))
            let v = Ore(try row.int("amount_ore"))
            if let decided = Day(iso: row["decided"]), decided.period > asOf {
                budgetLaterRows += 1; budgetLater += v
                return
            }
            budgetGrid[k, default: .zero] += v
            budgetRows += 1; budgetTotal += v
        }

        // Account-level budget (SIE #PBUDGET), mapped like the actuals; ledger sign → report sign.
        var bn: [String: Int64] = [:], ba: [String: Int64] = [:]
        func bcount(_ k: String, _ amount: Ore) { bn[k, default: 0] += 1; ba[k, default: 0] += amount.value }
        var budgetAccountsMapped = Ore.zero
        try TableReader(path: budgetAccounts.path, required: ["file", "line", "period", "account", "ansvar", "amount_ore"]).forEach { row in
            let amount = Ore(try row.int("amount_ore"))
            let period = try row.period("period")
            bcount("in", amount)
            guard period.year == fy else { bcount("other_years", amount); return }
            let account = row["account"], ansvarCode = row["ansvar"]
            var outcome = mapper.map(account: account, ansvar: ansvarCode, period: period)
            // A budget row without an ansvar (an SIE budget read without an object slice) goes to
            // the pipeline's default budget unit, when it names one.
            if outcome == .unmappedAnsvar, ansvarCode.isEmpty, let unit = cfg.budgetDefaultUnit,
                case .mapped(_, let line) = mapper.map(account: account, ansvar: nil, unit: unit, period: period)
            {
                outcome = .mapped(unit: unit, line: line)
                bcount("to_default_unit", amount)
            }
            switch outcome {
            case .mapped(let unit, let line):
                budgetGrid[GridKey(unit: unit, line: line, period: period), default: .zero] += SignConvention.reportSign(fromLedger: amount)
            case .excluded: bcount("excluded_by_mapping", amount); return
            case let outcome:
                let kind = outcome == .unmappedAccount ? "unmapped-budget-account" : "unmapped-budget-ansvar"
                bcount(kind.replacingOccurrences(of: "-", with: "_"), amount)
                exceptions.record(kind, account: account, ansvar: ansvarCode, year: period.year, amount: amount, at: "\(row["file"]):\(row["line"])")
                return
            }
            bcount("mapped", amount)
            budgetAccountsMapped += amount
        }

        // Account-level budget rows that could not be mapped are budget lost from the frame.
        var dataErrors: [String] = []
        let unmappedBudgetRows = (bn["unmapped_budget_account"] ?? 0) + (bn["unmapped_budget_ansvar"] ?? 0)
        let budgetRowsOfYear = (bn["in"] ?? 0) - (bn["other_years"] ?? 0)
        if unmappedBudgetRows > 0, unmappedBudgetRows * 10_000 > cfg.budgetRejectLimit * budgetRowsOfYear {
            let amount = Ore(-((ba["unmapped_budget_account"] ?? 0) + (ba["unmapped_budget_ansvar"] ?? 0)))
            let noAnsvar = exceptions.entries.contains { $0.key.kind == "unmapped-budget-ansvar" && $0.key.ansvar.isEmpty }
            dataErrors.append(
                "budget: \(unmappedBudgetRows) of \(budgetRowsOfYear) account-level budget rows (\(amount.swedish) kr, report sign) could not be mapped to a unit and report line — see 03-reconcile/exceptions.csv"
                    + (noAnsvar ? "; rows without an ansvar go to settings.budget_default_unit when the pipeline names one" : ""))
        }
        // The text tables of a run with a data error say so at their head.
        let banner = DataErrors.textBanner(DataErrors.upstream(context, before: name) + dataErrors)

        // Write the grid: every unit × line with any figure, all twelve months, in hierarchy and line order.
        let dir = context.directory(name)
        let grid = try TableWriter(directory: dir, name: "actuals_vs_budget.csv", header: ReconcileStage.gridHeader)
        var pairs = Set<[String]>()
        for k in actual.keys { pairs.insert([k.unit, k.line]) }
        for k in previous.keys { pairs.insert([k.unit, k.line]) }
        for k in budgetGrid.keys { pairs.insert([k.unit, k.line]) }
        let unitOrder = Dictionary(uniqueKeysWithValues: maps.units.depthFirst().enumerated().map { ($1.id, $0) })
        let lineOrder = Dictionary(uniqueKeysWithValues: maps.reportLines.enumerated().map { ($1.id, $0) })
        let sortedPairs = pairs.sorted {
            (unitOrder[$0[0]] ?? Int.max, lineOrder[$0[1]] ?? Int.max) < (unitOrder[$1[0]] ?? Int.max, lineOrder[$1[1]] ?? Int.max)
        }
        var gridActual = Ore.zero, gridBudget = Ore.zero, gridPrevious = Ore.zero
        for p in sortedPairs {
            var bYTD = Ore.zero, aYTD = Ore.zero
            for period in Period.months(ofYear: fy) {
                let k = GridKey(unit: p[0], line: p[1], period: period)
                let b = budgetGrid[k] ?? .zero, ac = actual[k] ?? .zero, pr = previous[k] ?? .zero
                bYTD += b; aYTD += ac
                gridActual += ac; gridBudget += b; gridPrevious += pr
                try grid.write([
                    p[0], p[1], period.description, String(b.value), String(ac.value), String(bYTD.value), String(aYTD.value), String(pr.value),
                ])
            }
        }
        let gridOut = try grid.commit()

        let ex = try TableWriter(
            directory: dir, name: "exceptions.csv", header: ["kind", "year", "account", "ansvar", "rows", "amount_ore", "first_source", "what_to_do"])
        for (k, v) in exceptions.entries.sorted(by: { $0.key < $1.key }) {
            let todo =
                k.kind == "unmapped-investment-account"
                ? "add account \(k.account) (or a range holding it) to the investment accounts table (investments: accounts), with its investment row or - if it holds no investment"
                : k.kind.hasSuffix("-account")
                    ? "add account \(k.account) (or a range holding it) to an accounts mapping table"
                    : !k.ansvar.isEmpty
                        ? "add ansvar \(k.ansvar) (or a range holding it) to the ansvar mapping table"
                        : k.kind.contains("budget")
                            ? "these budget rows have no ansvar: set settings.budget_default_unit to the unit they belong to, or read the budget with an object slice that carries the ansvar"
                            : "these postings have no ansvar: check the export's ansvar column (the profile's ansvar field)"
            try ex.write([k.kind, String(k.year), k.account, k.ansvar, String(v.rows), String(v.amount.value), v.first, todo])
        }

        // Care days and cost from the case system, per unit × month × form of care.
        let spill = dir + "/" + ReconcileStage.spillFolder
        defer { try? FileManager.default.removeItem(atPath: spill) }
        // Invoices are matched per placement × month when the ledger texts carry a reference.
        let matching = reference != nil ? cfg.caseReconciliation : nil
        var care = try CareDayTally.tally(
            path: placements.path, config: cfg, mappings: maps, spill: spill, matching: matching != nil, accruals: cfg.caseReconciliation != nil)
        let cd = try TableWriter(
            directory: dir, name: "care_days.csv", header: ["unit", "period", "form_of_care", "placements", "care_days", "cost_ore"])
        var careDays: Int64 = 0, careCost = Ore.zero
        for (k, v) in care.cells.sorted(by: { $0.key < $1.key }) {
            try cd.write([k.unit, k.period.description, k.form, String(v.placements), String(v.days), String(v.cost.value)])
            careDays += v.days; careCost += v.cost
        }
        for (ansvar, count) in care.unmapped.sorted(by: { $0.key < $1.key }) {
            try ex.write([
                "unmapped-ansvar-placement", String(fy), "", ansvar, String(count), "0", "02-normalize/placements.csv",
                "add ansvar \(ansvar) (or a range holding it) to the ansvar mapping table",
            ])
        }
        let cdOut = try cd.commit()
        let (assistanceOuts, assistanceTotals) = try Assistance.write(
            directory: dir, paymentsPath: payments.path, config: cfg, mappings: maps, budget: budgetGrid, ledgerByPeriod: assistanceLedger,
            plan: plan, banner: banner)
        var matchingOuts: [OutputRecord] = []
        var matchingCounts: [String: Int64] = [:]
        if let settings = matching {
            let (o, counts) = try InvoiceMatching.write(
                directory: dir, care: &care, invoiced: invoicedByPlacement, tolerance: settings.tolerance, asOf: asOf)
            matchingOuts = [o]; matchingCounts = counts
        }
        let volumeOuts = try VolumeTables.write(
            directory: dir, config: cfg, care: care, budget: budgetGrid, placementLedger: placementLedger,
            placementLedgerPrevious: placementLedgerPrevious, plan: plan, banner: banner)
        let placementForecastOut = try PlacementForecast.write(directory: dir, care: care, ledger: placementLedger, asOf: asOf)
        let (ivoOuts, ivoTotals) = try IVOReport.write(directory: dir, decisionsPath: decisions.path, settings: cfg.ivo, banner: banner)
        let (caseOuts, caseTotals) = try CaseReconciliation.write(
            directory: dir, care: care, ledgerCost: placementLedger, settings: cfg.caseReconciliation, asOf: asOf)

        // Control totals an auditor can tie back to the exports: per source file and per period
        // (every posting, ledger sign) and per year × report line (mapped postings, report sign).
        let ct = try TableWriter(directory: dir, name: "control_totals.csv", header: ["scope", "key", "rows", "amount_ore", "sign"])
        for (k, v) in control.sorted(by: { $0.key < $1.key }) {
            try ct.write([k.scope, k.key, String(v.rows), String(v.amount.value), k.scope == "report_line" ? "report" : "ledger"])
        }
        let ctOut = try ct.commit()
        func controlSum(_ scope: String, _ keyPrefix: String = "") -> (Int64, Int64) {
            let vs = control.filter { $0.key.scope == scope && $0.key.key.hasPrefix(keyPrefix) }.values
            return (vs.reduce(0) { $0 + $1.rows }, vs.reduce(0) { $0 + $1.amount.value })
        }
        var investmentTotals: [String: Int64] = [:], investmentSummary: [String] = []
        let exOut = try ex.commit()

        // investments.csv and its identities: every amount on the investment accounts mapped,
        // excluded or listed; the budget as normalize wrote it.
        var investmentOuts: [OutputRecord] = [], investmentInputs: [InputRecord] = []
        var investmentBalances: [Balance] = []
        if let book = investments {
            let file = try context.optionalOutput(of: .normalize, named: "investment_budget.csv")
            if let file { investmentInputs.append(file.input) }
            let b = try InvestmentBook.Budget.load(file?.path, fiscalYear: fy)
            var manual: [String: PrognosisStage.Manual] = [:]
            if let path = cfg.manualForecasts {
                manual = try InvestmentBook.manualForecasts(path, display: cfg.display(path), map: book.map)
                let (hex, bytes) = try FileIO.sha256(ofFile: path)
                investmentInputs.append(InputRecord(path: cfg.display(path), sha256: hex, bytes: bytes, role: "manual forecasts"))
                investmentTotals["investments.manual_forecasts"] = Int64(manual.count)
            }
            investmentOuts.append(try book.write(budget: b, manual: manual, to: dir))
            let cats = ["mapped", "excluded", "unmapped"]
            for c in ["in_scope"] + cats {
                investmentTotals["investments.rows.\(c)"] = book.n[c] ?? 0
                investmentTotals["investments.amount_ore.\(c)"] = (book.a[c] ?? .zero).value
            }
            investmentBalances = [
                Balance(
                    "investments.amount_ore.in_scope = mapped + excluded + unmapped", left: (book.a["in_scope"] ?? .zero).value,
                    right: cats.reduce(Ore.zero) { $0 + (book.a[$1] ?? .zero) }.value),
                Balance(
                    "investments.rows.in_scope = mapped + excluded + unmapped", left: book.n["in_scope"] ?? 0,
                    right: cats.reduce(0) { $0 + (book.n[$1] ?? 0) }),
                Balance(
                    "exceptions.csv amount_ore (investment accounts) = investments.amount_ore.unmapped",
                    left: exceptions.entries.filter { $0.key.kind.contains("investment") }.values.reduce(Ore.zero) { $0 + $1.amount }.value,
                    right: (book.a["unmapped"] ?? .zero).value),
            ]
            if let u = book.n["unmapped"], u > 0 {
                investmentSummary.append(
                    "reconcile: \(u) postings on investment accounts (\((book.a["unmapped"] ?? .zero).swedish) kr) have no investment row — see 03-reconcile/exceptions.csv (unmapped-investment-account)"
                )
            }
        }

        let cats = ["current_year", "previous_year", "after_as_of", "other_years", "excluded_by_mapping", "unmapped_account", "unmapped_ansvar"]
        var totals: [String: Int64] = [:]
        for c in ["in"] + cats { totals["rows.\(c)"] = n[c] ?? 0; totals["amount_ore.\(c)"] = a[c] ?? 0 }
        totals["budget_rows"] = budgetRows
        totals["budget_rows_decided_after_as_of"] = budgetLaterRows
        totals["budget_ore_decided_after_as_of"] = budgetLater.value
        let bcats = ["mapped", "other_years", "excluded_by_mapping", "unmapped_budget_account", "unmapped_budget_ansvar"]
        for c in ["in"] + bcats { totals["budget_accounts.rows.\(c)"] = bn[c] ?? 0; totals["budget_accounts.amount_ore.\(c)"] = ba[c] ?? 0 }
        if cfg.budgetDefaultUnit != nil {
            totals["budget_accounts.rows.to_default_unit"] = bn["to_default_unit"] ?? 0
            totals["budget_accounts.amount_ore.to_default_unit"] = ba["to_default_unit"] ?? 0
        }
        totals["placements.read"] = care.placementsRead
        totals["placements.mapped"] = care.placementsMapped
        if care.previousYearPlacements > 0 { totals["placements.previous_year_extract"] = care.previousYearPlacements }
        totals["placements.care_days"] = careDays
        totals["placements.cost_ore"] = careCost.value
        for (st, n) in caseTotals.unitMonths { totals["case_vs_ledger.\(st.rawValue)"] = n }
        totals["accruals.rows"] = caseTotals.accrualRows
        totals["accruals.amount_ore"] = caseTotals.accrualOre.value
        totals["placements.overlapping_pairs"] = caseTotals.overlaps
        for (k, v) in ivoTotals { totals["ivo.\(k)"] = v }
        for (k, v) in matchingCounts { totals["invoice_matching.\(k)"] = v }
        if reference != nil { totals["invoice_matching.ledger_rows_without_reference"] = invoicesWithoutReference }
        for (k, v) in assistanceTotals { totals[k] = v }
        totals.merge(investmentTotals) { $1 }
        totals["grid.actual_report_sign_ore"] = gridActual.value
        totals["grid.budget_ore"] = gridBudget.value
        totals["grid.previous_year_report_sign_ore"] = gridPrevious.value
        let balances =
            [
                Balance(
                    "rows.in = " + cats.map { "rows.\($0)" }.joined(separator: " + "), left: n["in"] ?? 0, right: cats.reduce(0) { $0 + (n[$1] ?? 0) }
                ),
                Balance(
                    "amount_ore.in = " + cats.map { "amount_ore.\($0)" }.joined(separator: " + "), left: a["in"] ?? 0,
                    right: cats.reduce(0) { $0 + (a[$1] ?? 0) }),
                Balance("grid.actual_report_sign_ore = −amount_ore.current_year", left: gridActual.value, right: -(a["current_year"] ?? 0)),
                Balance(
                    "grid.previous_year_report_sign_ore = −amount_ore.previous_year", left: gridPrevious.value, right: -(a["previous_year"] ?? 0)),
                Balance(
                    "grid.budget_ore = Σ budget.csv − budget_accounts.amount_ore.mapped", left: gridBudget.value,
                    right: budgetTotal.value - budgetAccountsMapped.value),
                Balance(
                    "Σ budget.csv amount_ore = budget in force + budget_ore_decided_after_as_of", left: budgetTotal.value + budgetLater.value,
                    right: try budgetFileTotal(budget.path)),
                Balance(
                    "budget_accounts.rows.in = " + bcats.map { "budget_accounts.rows.\($0)" }.joined(separator: " + "), left: bn["in"] ?? 0,
                    right: bcats.reduce(0) { $0 + (bn[$1] ?? 0) }),
                Balance(
                    "budget_accounts.amount_ore.in = " + bcats.map { "budget_accounts.amount_ore.\($0)" }.joined(separator: " + "),
                    left: ba["in"] ?? 0, right: bcats.reduce(0) { $0 + (ba[$1] ?? 0) }),
                Balance(
                    "accruals.csv Σ accrual_ore = Σ not_invoiced_ytd_ore of the units delivered-not-invoiced at as-of",
                    left: caseTotals.accrualOre.value,
                    right: caseTotals.shortfallOre.value),
                Balance(
                    "assistance.paid_ore = assistance.paid_mapped_ore + assistance.paid_unmapped_ansvar_ore",
                    left: assistanceTotals["assistance.paid_ore"] ?? 0,
                    right: (assistanceTotals["assistance.paid_mapped_ore"] ?? 0) + (assistanceTotals["assistance.paid_unmapped_ansvar_ore"] ?? 0)),
                Balance("control_totals.csv Σ file rows = rows.in", left: controlSum("file").0, right: n["in"] ?? 0),
                Balance("control_totals.csv Σ file amount_ore = amount_ore.in", left: controlSum("file").1, right: a["in"] ?? 0),
                Balance("control_totals.csv Σ period amount_ore = amount_ore.in", left: controlSum("period").1, right: a["in"] ?? 0),
                Balance(
                    "control_totals.csv Σ report_line \(fy) amount_ore = grid.actual_report_sign_ore", left: controlSum("report_line", "\(fy) ").1,
                    right: gridActual.value),
                Balance(
                    "placements.read = placements.mapped + placements with unmapped ansvar", left: care.placementsRead,
                    right: care.placementsMapped + care.previousYearPlacements + care.unmapped.values.reduce(0, +)),
                Balance(
                    "exceptions.csv amount_ore (ledger) = amount_ore.unmapped_account + amount_ore.unmapped_ansvar",
                    left: exceptions.entries.filter { !$0.key.kind.contains("budget") && !$0.key.kind.contains("investment") }.values.reduce(Ore.zero)
                    { $0 + $1.amount }.value,
                    right: (a["unmapped_account"] ?? 0) + (a["unmapped_ansvar"] ?? 0)),
            ] + investmentBalances
        let exRows = (n["unmapped_account"] ?? 0) + (n["unmapped_ansvar"] ?? 0)
        let manifest = context.manifest(
            name,
            inputs: [ledgerGroups.input, budget.input, budgetAccounts.input, placements.input, decisions.input, payments.input, planFile.input]
                + investmentInputs,
            outputs: [gridOut, exOut, cdOut, ctOut] + caseOuts + matchingOuts + ivoOuts + assistanceOuts + volumeOuts + [placementForecastOut]
                + investmentOuts,
            totals: totals, balances: balances,
            notes: cfg.caseReconciliation == nil
                ? ["case_reconciliation is not configured: case_vs_ledger.csv and accruals.csv hold only their header"] : [])
        var summary = [
            "reconcile: \(n["current_year"] ?? 0) postings this year, \(n["previous_year"] ?? 0) last year, \(n["excluded_by_mapping"] ?? 0) excluded by mapping (balance sheet)"
        ]
        if cfg.budgetDefaultUnit != nil, let n = bn["to_default_unit"], n > 0 {
            summary.append(
                "reconcile: \(n) budget rows without an ansvar (\(Ore(-(ba["to_default_unit"] ?? 0)).swedish) kr, report sign) went to the default budget unit \(cfg.budgetDefaultUnit!)"
            )
        }
        if exRows > 0 {
            summary.append(
                "reconcile: \(exRows) postings (\(Ore(-((a["unmapped_account"] ?? 0) + (a["unmapped_ansvar"] ?? 0))).swedish) kr, report sign) could not be mapped — see 03-reconcile/exceptions.csv"
            )
        }
        summary += investmentSummary
        summary.append("reconcile: \(care.placementsMapped) placements, \(careDays) care days (\(cfg.careDays.rawValue)) through \(asOf)")
        if cfg.caseReconciliation != nil {
            summary.append(
                "reconcile: case system vs ledger: \(caseTotals.unitMonths[.matched] ?? 0) unit-months matched, \(caseTotals.unitMonths[.deliveredNotInvoiced] ?? 0) delivered but not yet invoiced (accrual at \(asOf): \(caseTotals.accrualOre.swedish) kr, 03-reconcile/accruals.csv), \(caseTotals.unitMonths[.invoicedWithoutPlacement] ?? 0) invoiced without a placement, \(caseTotals.unitMonths[.invoicedMoreThanDelivered] ?? 0) invoiced more than delivered"
            )
        }
        if !matchingCounts.isEmpty {
            let explained = ["matched", "not-invoiced"]
            let rest = matchingCounts.filter { !explained.contains($0.key) }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
            summary.append(
                "reconcile: invoices per placement and month: \(matchingCounts["matched"] ?? 0) matched, \(matchingCounts["not-invoiced"] ?? 0) not invoiced"
                    + (rest.isEmpty ? "" : ", " + rest.joined(separator: ", ")) + " — 03-reconcile/invoice_matching.csv")
        }
        if let ivo = cfg.ivo {
            summary.append(
                "reconcile: IVO report \(ivo.quarter) (reported \(ivo.reportingDate)): \(ivoTotals["report.not-executed"] ?? 0) not executed, \(ivoTotals["report.interrupted"] ?? 0) interrupted, \(ivoTotals["report.executed-or-ended"] ?? 0) executed or ended — 03-reconcile/ivo_report.txt"
            )
        }
        if caseTotals.overlaps > 0 {
            summary.append(
                "reconcile: \(caseTotals.overlaps) \(caseTotals.overlaps == 1 ? "pair" : "pairs") of overlapping placements of one person — see 03-reconcile/placement_overlaps.csv"
            )
        }
        return StageResult(manifest: manifest, summary: summary, dataErrors: dataErrors)
    }
}
