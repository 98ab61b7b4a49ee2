import Foundation
import RamkollModel
import RamkollReaders

/// Normalize: read every source through its importer into the common schema, and the budget
/// frame into monthly budget lines. Writes ledger.csv, placements.csv, budget.csv and rejects.csv;
/// the manifest's balances prove rows and öre in = normalized + rejected, per source and in all.
public struct NormalizeStage: Stage {
    public let name = StageName.normalize
    public init() {}

    static let ledgerHeader = [
        "source", "file", "line", "voucher", "booking_date", "period", "account", "ansvar", "verksamhet",
        "aktivitet", "projekt", "objekt", "motpart", "amount_ore", "text",
    ]
    static let placementHeader = [
        "source", "file", "record", "line", "placement_id", "person", "ansvar", "form_of_care",
        "legal_basis", "start", "end", "daily_price_ore", "price_periods",
    ]
    static let budgetHeader = ["file", "line", "unit", "report_line", "period", "amount_ore", "version", "decided"]
    /// The multi-year plan: annual amounts for the years after the fiscal year (report sign).
    static let planHeader = ["file", "line", "unit", "report_line", "year", "amount_ore", "version", "decided"]
    static let rejectHeader = ["source", "file", "line", "record", "field", "raw_value", "reason"]
    static let budgetAccountHeader = [
        "source", "file", "line", "period", "account", "ansvar", "verksamhet", "aktivitet", "projekt", "objekt", "motpart", "amount_ore",
    ]
    static let warningHeader = ["source", "file", "line", "warning"]
    static let decisionHeader = [
        "source", "file", "record", "line", "decision_id", "person", "ansvar", "decision_date", "measure", "legal_basis", "favourable",
        "executed", "interrupted", "resumed", "ended", "reason",
    ]
    static let paymentHeader = ["source", "file", "record", "line", "payment_id", "household", "ansvar", "period", "paid_date", "amount_ore"]
    static let voucherHeader = ["source", "voucher", "first_line", "rows", "amount_ore"]
    /// ledger.csv summed (reconcile reads this, not the rows): the invoice reference is found only
    /// on placement accounts with `case_reconciliation.invoice_reference` set; first_line is the
    /// source line of the group's first row.
    static let groupHeader = [
        "source", "file", "period", "account", "ansvar", "placement", "invoice_month", "rows", "amount_ore", "first_line",
    ]

    final class Sink: RecordSinks {
        let ledgerOut: TableWriter, placementsOut: TableWriter, rejectsOut: TableWriter
        let budgetAccountsOut: TableWriter, warningsOut: TableWriter, vouchersOut: TableWriter, decisionsOut: TableWriter, paymentsOut: TableWriter
        /// Voucher runs and the periods each source covers (see `LedgerBooks`).
        var books = LedgerBooks()
        var voucherRowsWritten: Int64 = 0, voucherAmountWritten = Ore.zero
        var ledgerRowsWithVoucher: Int64 { books.rowsWithVoucher }
        var ledgerAmountWithVoucher: Ore { books.amountWithVoucher }
        var periods: [String: Set<Period>] { books.periods }

        /// Writes a complete voucher run (a run without a voucher number is not a voucher).
        func writeRun(_ run: LedgerBooks.Run) throws {
            guard run.rows > 0, !run.voucher.isEmpty else { return }
            voucherRowsWritten += run.rows; voucherAmountWritten += run.amount
            NormalizeStage.writeVoucher(run, to: vouchersOut)
            try vouchersOut.endRow()
        }
        func flushVoucher() throws {
            try writeRun(books.open)
            books.open.rows = 0
        }
        let referencer: InvoiceReferencer
        init(_ dir: String, caseReconciliation: PipelineConfig.CaseReconciliationSettings?) throws {
            referencer = InvoiceReferencer(caseReconciliation)
            vouchersOut = try TableWriter(directory: dir, name: "voucher_totals.csv", header: NormalizeStage.voucherHeader)
            decisionsOut = try TableWriter(directory: dir, name: "decisions.csv", header: NormalizeStage.decisionHeader)
            paymentsOut = try TableWriter(directory: dir, name: "payments.csv", header: NormalizeStage.paymentHeader)
            budgetAccountsOut = try TableWriter(directory: dir, name: "budget_accounts.csv", header: NormalizeStage.budgetAccountHeader)
            warningsOut = try TableWriter(directory: dir, name: "warnings.csv", header: NormalizeStage.warningHeader)
            ledgerOut = try TableWriter(directory: dir, name: "ledger.csv", header: NormalizeStage.ledgerHeader)
            placementsOut = try TableWriter(directory: dir, name: "placements.csv", header: NormalizeStage.placementHeader)
            rejectsOut = try TableWriter(directory: dir, name: "rejects.csv", header: NormalizeStage.rejectHeader)
        }

        func ledgerRow(_ r: LedgerRowFacts, fields: (TableWriter) throws -> Void) throws {
            try books.record(r, referencer: referencer) { try writeRun($0) }
            try fields(ledgerOut)
            try ledgerOut.endRow()
        }

        func ledger(_ e: LedgerEntry, sourceID: String) throws {
            let e = e.redacted()
            try LedgerRowFacts.of(e, sourceID: sourceID) { r in try books.record(r, referencer: referencer) { try writeRun($0) } }
            try ledgerOut.write(NormalizeStage.ledgerFields(e, sourceID: sourceID))
        }

        /// Appends a block of a ledger file read by a worker, in file order: its rows and rejects
        /// as they are, its voucher runs joined to the open run where one continues it.
        func append(_ block: LedgerBlockSink) throws {
            try ledgerOut.appendRows(of: block.ledger)
            try rejectsOut.appendRows(of: block.rejects)
            try warningsOut.appendRows(of: block.warnings)
            books.absorbCounts(of: block.books)
            guard let first = block.firstRun else { return }
            if books.open.rows > 0, books.open.continues(with: first) {
                books.open.rows += first.rows; books.open.amount += first.amount
            } else {
                try writeRun(books.open)
                books.open = first
            }
            if let last = block.lastRun {
                // The block's first run ended inside it: the open run is complete.
                try writeRun(books.open)
                try vouchersOut.appendRows(of: block.vouchers)
                voucherRowsWritten += block.middleRows; voucherAmountWritten += block.middleAmount
                books.open = last
            }
        }
        /// One row per placement, field by field (no String for a number, a date or the price periods).
        func placement(_ p: Placement, sourceID: String) throws {
            let o = placementsOut
            o.field(sourceID); o.field(p.source.file)
            if case .record(let i, _) = p.source.position { o.field(i) } else { o.field("") }
            o.field(p.source.line); o.field(PersonalIdentity.redact(p.id)); o.field(p.person); o.field(PersonalIdentity.redact(p.ansvar))
            o.field(p.formOfCare); o.field(p.legalBasis); o.field(p.start); o.field(p.end); o.field(p.dailyPrice.value)
            // `YYYY-MM-DD:öre|…` (at most 16 + 1 + 20 + 1 bytes a period): digits, dashes, colons and bars, which need no quotes.
            o.fields(maxBytes: 1 + p.prices.count * 38) { r in
                r.separator()
                for (k, period) in p.prices.enumerated() {
                    if k > 0 { r.byte(UInt8(ascii: "|")) }
                    r.day(period.from); r.byte(UInt8(ascii: ":")); r.int(period.price.value)
                }
            }
            try o.endRow()
        }
        func budgetAccount(_ e: LedgerEntry, sourceID: String) throws {
            let e = e.redacted()
            let d = e.dimensions
            try budgetAccountsOut.write([
                sourceID, e.source.file, String(e.source.line), e.period.description, e.account, d.ansvar, d.verksamhet, d.aktivitet,
                d.projekt, d.objekt, d.motpart, String(e.amount.value),
            ])
        }
        func warning(sourceID: String, at: SourceRef, message: String) throws {
            try warningsOut.write(NormalizeStage.warningFields(sourceID: sourceID, at: at, message: message))
        }
        func payment(_ p: AssistancePayment, sourceID: String) throws {
            var p = p
            p.id = PersonalIdentity.redact(p.id); p.ansvar = PersonalIdentity.redact(p.ansvar)
            var record = ""
            if case .record(let i, _) = p.source.position { record = String(i) }
            try paymentsOut.write([
                sourceID, p.source.file, record, String(p.source.line), p.id, p.household, p.ansvar, p.period.description,
                p.paidDate?.description ?? "",
                String(p.amount.value),
            ])
        }
        func decision(_ d: Decision, sourceID: String) throws {
            var d = d
            d.id = PersonalIdentity.redact(d.id); d.ansvar = PersonalIdentity.redact(d.ansvar)
            var record = ""
            if case .record(let i, _) = d.source.position { record = String(i) }
            func day(_ x: Day?) -> String { x?.description ?? "" }
            try decisionsOut.write([
                sourceID, d.source.file, record, String(d.source.line), d.id, d.person, d.ansvar, d.decisionDate.description, d.measure,
                d.legalBasis, d.favourable ? "yes" : "no", day(d.executed), day(d.interrupted), day(d.resumed), day(d.ended), d.reason,
            ])
        }
        func reject(sourceID: String, at: SourceRef, field: String, raw: String, reason: String) throws {
            try rejectsOut.write(NormalizeStage.rejectFields(sourceID: sourceID, at: at, field: field, raw: raw, reason: reason))
        }
    }

    /// A ledger.csv row from the general path (the byte-level path writes the same fields).
    static func ledgerFields(_ e: LedgerEntry, sourceID: String) -> [String] {
        let d = e.dimensions
        return [
            sourceID, e.source.file, String(e.source.line), e.voucher, e.bookingDate?.description ?? "",
            e.period.description, e.account, d.ansvar, d.verksamhet, d.aktivitet, d.projekt, d.objekt, d.motpart,
            String(e.amount.value), e.text,
        ]
    }
    static func rejectFields(sourceID: String, at: SourceRef, field: String, raw: String, reason: String) -> [String] {
        var record = ""
        if case .record(let i, _) = at.position { record = String(i) }
        return [sourceID, at.file, String(at.line), record, field, PersonalIdentity.redact(raw), PersonalIdentity.redact(reason)]
    }
    static func warningFields(sourceID: String, at: SourceRef, message: String) -> [String] {
        [sourceID, at.file, String(at.line), PersonalIdentity.redact(message)]
    }
    static func writeVoucher(_ run: LedgerBooks.Run, to w: TableWriter) {
        guard let _ = run.source.utf8.withContiguousStorageIfAvailable({ s in write(s) }) else {
            var copy = run.source
            return copy.withUTF8 { write($0) }
        }
        func write(_ s: UnsafeBufferPointer<UInt8>) {
            run.voucher.withUnsafeBufferPointer { v in
                if run.sourceQuoted || (!run.voucherPlain && TableWriter.needsQuotes(v)) {
                    w.field(bytes: s); w.field(bytes: v); w.field(run.firstLine); w.field(run.rows); w.field(run.amount.value)
                    return
                }
                // One row per voucher run (every row of a ledger without multi-row vouchers): in place.
                w.fields(maxBytes: s.count + v.count + 3 * 20 + 4) { r in
                    r.put(s); r.separator(); r.put(v); r.separator()
                    r.int(Int64(run.firstLine)); r.separator(); r.int(run.rows); r.separator(); r.int(run.amount.value)
                }
            }
        }
    }

    public func run(_ context: StageContext) throws -> StageResult {
        let cfg = context.config
        let dir = context.directory(name)
        let ingest = try context.output(of: .ingest, named: "inputs.csv")
        let fingerprints = try readFingerprints(ingest.path)
        var inputs = [ingest.input]
        let sink = try Sink(dir, caseReconciliation: cfg.caseReconciliation)
        var totals: [String: Int64] = [:]
        var balances: [Balance] = []
        var all = ImportCounts()
        var dataErrors: [String] = []
        var summary: [String] = []

        /// The file must still be the one ingest fingerprinted.
        func fingerprint(_ id: String, _ path: String, _ display: String, role: String) throws {
            let (hex, bytes) = try FileIO.sha256(ofFile: path)
            guard fingerprints[id] == hex else {
                throw RamkollError(.input, "\(display) changed since ingest (or was not ingested); rerun from ingest")
            }
            inputs.append(InputRecord(path: cfg.display(path), sha256: hex, bytes: bytes, role: role))
        }
        /// Records one importer's counts: totals, the conservation identities, the run summary.
        func account(_ c: ImportCounts, id: String) throws {
            let k = "source.\(id)."
            totals.merge(c.totals(prefix: k)) { $1 }
            for (reason, n) in c.skipped { totals[k + "skipped." + reason.replacingOccurrences(of: " ", with: "_")] = n }
            for (check, n) in c.checks { totals[k + "check." + check] = n }
            balances += c.balances(label: "\(id): ")
            if let e = c.fileError { dataErrors.append(e) }
            all.add(c)
            try all.checkTally("the amounts of the run's sources")
            let skipped = c.rowsSkipped > 0 ? ", \(c.rowsSkipped) skipped" : ""
            summary.append("normalize: \(id): \(c.rowsRead) read, \(c.rowsNormalized) normalized, \(c.rowsRejected) rejected\(skipped)")
        }

        for s in cfg.sources {
            guard fingerprints[s.id] != nil else {
                summary.append("normalize: \(s.id): not read (ingest found it is a duplicate of another source)")
                continue
            }
            try fingerprint(s.id, s.path, s.displayPath, role: "source \(s.id)")
            let counts = try s.profile.importer().read(s, context: context, into: sink)
            try account(counts, id: s.id)
            context.logger.debug(
                "source normalized",
                metadata: [
                    "source": "\(s.id)", "file": "\(s.displayPath)", "read": "\(counts.rowsRead)", "normalized": "\(counts.rowsNormalized)",
                    "rejected": "\(counts.rowsRejected)", "skipped": "\(counts.rowsSkipped)",
                ])
        }

        // Two sources of one ledger holding postings for the same month would count them twice.
        let ledgerSources = cfg.sources.filter { fingerprints[$0.id] != nil }
        for (i, a) in ledgerSources.enumerated() {
            for b in ledgerSources[(i + 1)...] where a.ledger == b.ledger {
                let shared = (sink.periods[a.id] ?? []).intersection(sink.periods[b.id] ?? []).sorted()
                if let first = shared.first {
                    throw RamkollError(
                        .data,
                        "sources \(a.id) (\(a.displayPath)) and \(b.id) (\(b.displayPath)) both hold postings of ledger \"\(a.ledger)\" for \(shared.count == 1 ? first.description : "\(shared.count) periods, \(first)–\(shared.last!)"); they would be counted twice — keep one of them in the pipeline (e.g. the year-to-date file instead of the monthly ones), or give a sub-ledger its own ledger: name"
                    )
                }
            }
        }

        // Freshness (as dbt's source freshness): every ledger with postings in the fiscal year must
        // reach the as-of month; an export that stops earlier is stale or cut short.
        var reach: [String: (latest: Period, sources: [String])] = [:]
        for s in ledgerSources {
            guard let latest = sink.periods[s.id]?.filter({ $0.year == cfg.fiscalYear }).max() else { continue }
            var r = reach[s.ledger] ?? (latest, [])
            r.latest = max(r.latest, latest)
            r.sources.append(s.id)
            reach[s.ledger] = r
        }
        for (ledger, r) in reach.sorted(by: { $0.key < $1.key }) {
            totals["coverage.\(ledger).latest_period"] = Int64(r.latest.year * 100 + r.latest.month)
            if r.latest < cfg.asOf {
                dataErrors.append(
                    "ledger \"\(ledger)\" (\(r.sources.count == 1 ? "source" : "sources") \(r.sources.joined(separator: ", "))) has postings through \(r.latest), behind the as-of period \(cfg.asOf): the export is stale or cut short — export it again, or run with --as-of \(r.latest)"
                )
            }
        }

        // Budgets: the budget-frame CSV (unit × report line), or an SIE file's #PBUDGET (account level).
        let budgetOut = try TableWriter(directory: dir, name: "budget.csv", header: NormalizeStage.budgetHeader)
        let planOut = try TableWriter(directory: dir, name: "plan.csv", header: NormalizeStage.planHeader)
        var planRows: Int64 = 0, planAmount = Ore.zero
        var budgetRows: Int64 = 0, budgetRejected: Int64 = 0
        var budgetIn = Ore.zero, budgetMonthly = Ore.zero, budgetRejectedAmount = Ore.zero
        var budgetTally = MoneyTally()
        // SIE budgets are read like a source (their counts are in `all`), but count against the
        // budget's limit, not the ledger's.
        var sieBudgets = ImportCounts()
        /// A budget file that lost rows is a data error unless the pipeline allows a share.
        /// `investment`: the investment budget, whose lost amounts are investments, not the frame.
        func checkBudget(
            _ display: String, read: Int64, rejected: Int64, amount: Ore, withoutAmount: Int64, examples: [String], investment: Bool = false
        ) {
            guard rejected > 0, rejected * 10_000 > cfg.budgetRejectLimit * read else { return }
            // What was lost: the amounts read, and the lines whose amount could not be read at all.
            var lost: [String] = []
            if amount != .zero || withoutAmount < rejected { lost.append("\(amount.swedish) kr of the \(investment ? "investments" : "frame")") }
            if withoutAmount > 0 { lost.append("\(withoutAmount) whose amount could not be read") }
            dataErrors.append(
                "\(investment ? "investment budget" : "budget") \(display): \(rejected) of \(read) lines rejected (\(lost.joined(separator: " and ")))"
                    + (examples.isEmpty ? "" : ": " + examples.joined(separator: "; ") + (rejected > Int64(examples.count) ? "; …" : ""))
                    + " — see 02-normalize/rejects.csv; a budget line lost changes the \(investment ? "investment budget" : "frame"): fix the file"
                    + (cfg.budgetRejectLimit > 0 ? " (above the limit of \(Ore.formatPercent(cfg.budgetRejectLimit)) %)" : ""))
        }
        /// A budget file's books in the manifest: rows and öre read, written and rejected (keys under
        /// `prefix`), with the identities that prove nothing was lost.
        func budgetBooks(
            _ label: String, prefix k: String, rows: Int64, normalized: Int64, rejected: Int64, withoutAmount: Int64,
            read: (key: String, ore: Ore), written: (key: String, ore: Ore), lost: (key: String, ore: Ore)
        ) {
            totals[k + "rows_read"] = rows
            totals[k + "rows_normalized"] = normalized
            totals[k + "rows_rejected"] = rejected
            totals[k + "rows_rejected_without_amount"] = withoutAmount
            for (key, ore) in [read, written, lost] { totals[k + key] = ore.value }
            balances.append(Balance("\(label): rows_read = rows_normalized + rows_rejected", left: rows, right: normalized + rejected))
            balances.append(
                Balance("\(label): \(read.key) = \(written.key) + \(lost.key)", left: read.ore.value, right: written.ore.value + lost.ore.value))
        }
        for (i, b) in cfg.budgets.enumerated() {
            let id = "budget\(i + 1)"
            try fingerprint(id, b.path, b.displayPath, role: "budget")
            if let sie = b.profile {
                let asSource = PipelineConfig.Source(
                    id: id, path: b.path, displayPath: b.displayPath, profile: sie, profilePath: b.profilePath ?? "")
                let c = try SIEImporter(profile: sie, purpose: .budget).read(asSource, context: context, into: sink)
                try account(c, id: id)
                sieBudgets.add(c)
                checkBudget(
                    b.displayPath, read: c.rowsRead, rejected: c.rowsRejected, amount: c.amountRejected, withoutAmount: c.rejectedWithoutAmount,
                    examples: [])
                continue
            }
            var examples: [String] = []
            let r = try BudgetReader.read(
                path: b.path, display: b.displayPath, fiscalYear: cfg.fiscalYear, mappings: context.mappings,
                emit: { line, source in
                    try budgetOut.write([
                        source.file, String(source.line), line.unit, line.line, line.period.description, String(line.amount.value), b.version,
                        b.decided?.description ?? "",
                    ])
                },
                plan: { unit, line, year, amount, source in
                    try planOut.write([
                        source.file, String(source.line), unit, line, String(year), String(amount.value), b.version, b.decided?.description ?? "",
                    ])
                },
                reject: { ref, field, raw, reason in
                    try sink.reject(sourceID: id, at: ref, field: field, raw: raw, reason: reason)
                    if examples.count < 3 { examples.append("line \(ref.line): \(PersonalIdentity.redact(reason))") }
                })
            // rows_normalized in the totals is read − rejected; the identity checks the reader's own count.
            budgetBooks(
                id, prefix: "budget.\(id).", rows: r.rows, normalized: r.normalized, rejected: r.rejected, withoutAmount: r.rejectedWithoutAmount,
                read: ("annual_read_ore", r.annualRead), written: ("monthly_written_ore", r.monthly), lost: ("annual_rejected_ore", r.annualRejected))
            totals["budget.\(id).rows_normalized"] = r.rows - r.rejected
            checkBudget(
                b.displayPath, read: r.rows, rejected: r.rejected, amount: r.annualRejected, withoutAmount: r.rejectedWithoutAmount,
                examples: examples)
            budgetTally.absorb(r.tally)
            if budgetTally.exceeded { throw budgetTally.error("the budget amounts of the run") }
            budgetRows += r.rows; budgetRejected += r.rejected
            budgetIn += r.annualRead; budgetMonthly += r.monthly; budgetRejectedAmount += r.annualRejected
            planRows += r.planRows; planAmount += r.planAmount
        }
        let planRecord = try planOut.commit()

        // The investment budget: every amount written to investment_budget.csv or rejected.
        var investmentRecord: OutputRecord?
        var investmentRejected: Int64 = 0
        if let path = cfg.investments?.budget, let investments = context.mappings.investments {
            let display = cfg.display(path)
            try fingerprint("investment_budget", path, display, role: "investment budget")
            let out = try TableWriter(directory: dir, name: "investment_budget.csv", header: InvestmentBudgetReader.header)
            var examples: [String] = []
            let r = try InvestmentBudgetReader.read(
                path: path, display: display, fiscalYear: cfg.fiscalYear, investments: investments,
                emit: { ref, row, projekt, year, amount in
                    try out.write([ref.file, String(ref.line), row, projekt, String(year), String(amount.value)])
                },
                reject: { ref, field, raw, reason in
                    try sink.reject(sourceID: "investment_budget", at: ref, field: field, raw: raw, reason: reason)
                    if examples.count < 3 { examples.append("line \(ref.line): \(PersonalIdentity.redact(reason))") }
                })
            investmentRecord = try out.commit()
            investmentRejected = r.rejected
            budgetBooks(
                "investment_budget", prefix: "investment_budget.", rows: r.rows, normalized: r.normalized, rejected: r.rejected,
                withoutAmount: r.rejectedWithoutAmount, read: ("amount_read_ore", r.amountRead), written: ("amount_written_ore", r.amountWritten),
                lost: ("amount_rejected_ore", r.amountRejected))
            balances.append(Balance("investment_budget.csv rows = amounts written", left: investmentRecord!.rows, right: r.written))
            // The budget files' limit (budget_reject_limit_percent) holds for it too.
            checkBudget(
                display, read: r.rows, rejected: r.rejected, amount: r.amountRejected, withoutAmount: r.rejectedWithoutAmount, examples: examples,
                investment: true)
            summary.append("normalize: investment budget: \(r.rows) lines read, \(r.rejected) rejected (02-normalize/investment_budget.csv)")
        }

        try sink.flushVoucher()
        // ledger.csv by source × period × account × ansvar × invoice reference: what reconcile reads.
        let groupsOut = try TableWriter(directory: dir, name: "ledger_groups.csv", header: NormalizeStage.groupHeader)
        var groupRows: Int64 = 0, groupAmount = Ore.zero
        for g in sink.books.groups {
            groupsOut.field(g.source); groupsOut.field(g.file); groupsOut.field(g.period); groupsOut.field(g.account); groupsOut.field(g.ansvar)
            groupsOut.field(g.placement)
            if let m = g.month { groupsOut.field(m) } else { groupsOut.field("") }
            groupsOut.field(g.rows); groupsOut.field(g.amount.value); groupsOut.field(g.firstLine)
            try groupsOut.endRow()
            groupRows += g.rows; groupAmount += g.amount
        }
        let groupsRecord = try groupsOut.commit()
        let outs = [
            try sink.ledgerOut.commit(), try sink.placementsOut.commit(), try budgetOut.commit(), try sink.budgetAccountsOut.commit(),
            try sink.rejectsOut.commit(), try sink.warningsOut.commit(), try sink.vouchersOut.commit(),
            try sink.decisionsOut.commit(), try sink.paymentsOut.commit(),
        ]
        totals.merge(all.totals(prefix: "")) { $1 }
        totals["warnings"] = outs[5].rows
        totals["budget.rows_read"] = budgetRows
        totals["budget.rows_rejected"] = budgetRejected
        totals["budget.annual_read_ore"] = budgetIn.value
        totals["budget.monthly_written_ore"] = budgetMonthly.value
        totals["budget.annual_rejected_ore"] = budgetRejectedAmount.value
        totals["plan.rows"] = planRows
        totals["plan.amount_ore"] = planAmount.value
        balances += all.balances(label: "")
        balances.append(Balance("plan.csv rows = plan.rows", left: planRecord.rows, right: planRows))
        balances.append(
            Balance(
                "ledger.csv + placements.csv + budget_accounts.csv + decisions.csv + payments.csv rows = rows_normalized",
                left: outs[0].rows + outs[1].rows + outs[3].rows + outs[7].rows + outs[8].rows, right: all.rowsNormalized))
        balances.append(
            Balance(
                "budget.annual_read_ore = budget.monthly_written_ore + budget.annual_rejected_ore", left: budgetIn.value,
                right: budgetMonthly.value + budgetRejectedAmount.value))
        balances.append(
            Balance(
                "rejects.csv rows = rows_rejected + budget.rows_rejected + file-level rejects", left: outs[4].rows,
                right: all.rowsRejected + budgetRejected + investmentRejected + all.fileRejects))
        balances.append(
            Balance(
                "voucher_totals.csv Σ rows = ledger.csv rows with a voucher number", left: sink.voucherRowsWritten, right: sink.ledgerRowsWithVoucher)
        )
        balances.append(
            Balance(
                "voucher_totals.csv Σ amount_ore = Σ amount_ore of ledger.csv rows with a voucher number", left: sink.voucherAmountWritten.value,
                right: sink.ledgerAmountWithVoucher.value))
        balances.append(Balance("ledger_groups.csv Σ rows = ledger.csv rows", left: groupRows, right: outs[0].rows))
        balances.append(
            Balance("ledger_groups.csv Σ amount_ore = Σ amount_ore of ledger.csv", left: groupAmount.value, right: sink.books.amount.value))
        if budgetRows > 0 {
            summary.append(
                "normalize: budget frame: \(budgetRows) lines read, \(budgetRejected) rejected"
                    + (planRows > 0 ? "; \(planRows) plan-year amounts (02-normalize/plan.csv)" : ""))
        }
        if outs[5].rows > 0 {
            summary.append("normalize: \(outs[5].rows) \(outs[5].rows == 1 ? "warning" : "warnings") — see 02-normalize/warnings.csv")
        }
        // What the reject limit is computed from: the sources' rows (budget files have their own limit).
        totals["limit.rows_read"] = all.rowsRead - sieBudgets.rowsRead
        totals["limit.rows_rejected"] = all.rowsRejected - sieBudgets.rowsRejected
        let manifest = context.manifest(
            name, inputs: inputs, outputs: outs + [planRecord, groupsRecord] + (investmentRecord.map { [$0] } ?? []), totals: totals,
            balances: balances, notes: dataErrors)
        // The reject limit is the sources' (budget files have their own, checked above).
        return StageResult(
            manifest: manifest, summary: summary, rejectedRows: all.rowsRejected - sieBudgets.rowsRejected,
            readRows: all.rowsRead - sieBudgets.rowsRead, dataErrors: dataErrors)
    }

    /// id → SHA-256, for the inputs ingest decided to read (duplicates are left out).
    private func readFingerprints(_ path: String) throws -> [String: String] {
        var out: [String: String] = [:]
        try TableReader(path: path, required: ["id", "sha256", "status"]).forEach { row in
            if row["status"] == "read" { out[row["id"]] = row["sha256"] }
        }
        return out
    }
}

/// The budget frame (internbudget): one row per unit × report line, an annual amount in report
/// sign (kronor, decimal comma) and a periodisation key: `jämn` (even twelfths; the öre that do
/// not divide go to the first months) or `månad` (the twelve month columns, which must add up
/// to the annual amount). Optional columns `plan ÅÅÅÅ` (years after the fiscal year) carry the
/// multi-year plan: one annual amount per unit × line and year (empty = nothing planned). An
/// optional column `budget ÅÅÅÅ` for the year before carries the previous year's budget, which
/// the multi-year table (`ekonomiska_ramar`) shows beside the year's; it goes to plan.csv as that
/// year.
///
///     enhet;rad;belopp;periodisering;jan;feb;mar;apr;maj;jun;jul;aug;sep;okt;nov;dec;plan 2023
///     BU-HVB;KOP;-18 500 000;jämn;;;;;;;;;;;;;-19 200 000
enum BudgetReader {
    static let months = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]

    struct Counts {
        var rows: Int64 = 0, rejected: Int64 = 0, normalized: Int64 = 0, rejectedWithoutAmount: Int64 = 0
        var annualRead = Ore.zero, monthly = Ore.zero, annualRejected = Ore.zero
        var planRows: Int64 = 0, planAmount = Ore.zero
        /// The absolute total of the annual and plan amounts read (`Ore.runLimit` bounds it).
        var tally = MoneyTally()
    }

    /// The plan-year columns of a budget header: `plan 2023` → 2023, in the header's order.
    static func planColumns(_ header: [String], prefix: String = "plan") -> [(column: String, year: Int)] {
        header.compactMap { h in
            let parts = h.lowercased().split(separator: " ")
            guard parts.count == 2, parts[0] == prefix, parts[1].count == 4, let y = Int(parts[1]) else { return nil }
            return (h, y)
        }
    }

    /// Spreads an annual amount over twelve months exactly (no öre lost or created).
    static func evenTwelfths(_ annual: Ore) -> [Ore] {
        let q = annual.value / 12, r = annual.value % 12  // r has annual's sign
        return (0..<12).map { Ore(q + (Int64($0) < r.magnitude ? (r < 0 ? -1 : 1) : 0)) }
    }

    static func read(
        path: String, display: String, fiscalYear: Int, mappings: MappingTables,
        emit: (BudgetLine, SourceRef) throws -> Void,
        plan: (_ unit: String, _ line: String, _ year: Int, _ amount: Ore, SourceRef) throws -> Void = { _, _, _, _, _ in },
        reject: (SourceRef, String, String, String) throws -> Void
    ) throws -> Counts {
        var diags: [Diagnostic] = []
        var c = Counts()
        guard
            let t = DataTable.read(path: path, display: display, required: ["enhet", "rad", "belopp", "periodisering"] + months, diagnostics: &diags)
        else {
            throw RamkollError(.data, diags.map(\.description).joined(separator: "\n"))
        }
        // The plan years, and the previous year's budget (`budget ÅÅÅÅ`, the year before), which
        // the multi-year tables show beside the year's; both go to plan.csv by year.
        var planColumns = planColumns(t.header)
        if let bad = planColumns.first(where: { $0.year <= fiscalYear }) {
            throw RamkollError(
                .data,
                "\(display): column \"\(bad.column)\": a plan year must come after the fiscal year \(fiscalYear); the fiscal year's budget is in belopp"
            )
        }
        let previous = BudgetReader.planColumns(t.header, prefix: "budget")
        if let bad = previous.first(where: { $0.year != fiscalYear - 1 }) {
            throw RamkollError(
                .data,
                "\(display): column \"\(bad.column)\": a budget column names the previous year's budget (budget \(fiscalYear - 1)); the fiscal year's budget is in belopp"
            )
        }
        planColumns = previous + planColumns
        for d in diags {
            try reject(SourceRef(file: display, line: d.line ?? 0), d.field ?? "", d.rawValue ?? "", d.message)
            c.rejected += 1; c.rows += 1; c.rejectedWithoutAmount += 1
        }
        let parser = AmountParser()
        var budgeted: [String: Int] = [:]  // unit \u{0} line → the row's line
        for row in t.rows {
            c.rows += 1
            let ref = SourceRef(file: display, line: row.line)
            func fail(_ field: String, _ raw: String, _ reason: String, annual: Ore?) throws {
                try reject(ref, field, raw, reason)
                c.rejected += 1
                if let a = annual { c.annualRejected += a; c.annualRead += a } else { c.rejectedWithoutAmount += 1 }
            }
            let parsedAnnual = parser.parse(Array(row["belopp"].utf8))
            if case .success(let a) = parsedAnnual {
                try c.tally.count(a, file: display, line: row.line, what: "the budget amounts of \(display)")
            }
            guard case .success(let annual) = parsedAnnual else {
                let why = if case .failure(let f) = parsedAnnual { f.reason } else { "" }
                try fail(
                    "belopp", row["belopp"],
                    "budget amount \"\(row["belopp"])\" is not a number: \(why); expected kronor with decimal comma, e.g. -1 234 000", annual: nil);
                continue
            }
            let unit = row["enhet"], line = row["rad"]
            guard mappings.units.byID[unit] != nil else {
                try fail("enhet", unit, "unit \"\(unit)\" is not in the unit hierarchy; add it to the units table or fix the budget", annual: annual);
                continue
            }
            guard let rl = mappings.lineByID[line], !rl.isSum else {
                try fail("rad", line, "report line \"\(line)\" is not a base report line (sum lines are computed, not budgeted)", annual: annual);
                continue
            }
            if let first = budgeted[unit + "\u{0}" + line] {
                try fail(
                    "rad", line,
                    "unit \(unit), line \(line) is budgeted twice: here and at line \(first); the two would be added up — keep one row (or sum them into one)",
                    annual: annual)
                continue
            }
            budgeted[unit + "\u{0}" + line] = row.line
            var perMonth: [Ore]
            switch row["periodisering"].lowercased() {
            case "jämn", "even", "":
                perMonth = evenTwelfths(annual)
            case "månad", "manad", "months":
                perMonth = []
                var bad: String?
                for m in months {
                    switch parser.parse(Array(row[m].utf8)) {
                    case .success(let o): perMonth.append(o)
                    case .failure(.empty): bad = bad ?? "month \"\(m)\" is empty; with periodisering månad every month needs an amount (0 for none)"
                    case .failure(let f): bad = bad ?? "month \"\(m)\" amount \"\(row[m])\": \(f.reason)"
                    }
                }
                if let bad { try fail("periodisering", row["periodisering"], bad, annual: annual); continue }
                let sum = perMonth.reduce(Ore.zero, +)
                if sum != annual {
                    try fail(
                        "belopp", row["belopp"],
                        "the months add up to \(sum.swedish) kr but the annual amount is \(annual.swedish) kr; they must agree", annual: annual);
                    continue
                }
            default:
                try fail(
                    "periodisering", row["periodisering"], "periodisation key \"\(row["periodisering"])\" is not known; use jämn or månad",
                    annual: annual);
                continue
            }
            var planned: [(Int, Ore)] = []
            var badPlan: (String, String, String)?
            for (column, year) in planColumns where !row[column].isEmpty {
                switch parser.parse(Array(row[column].utf8)) {
                case .success(let o): planned.append((year, o))
                case .failure(let f): badPlan = badPlan ?? (column, row[column], "\(column) amount \"\(row[column])\": \(f.reason)")
                }
            }
            if let (field, raw, reason) = badPlan { try fail(field, raw, reason, annual: annual); continue }
            for (year, amount) in planned {
                try c.tally.count(amount, file: display, line: row.line, what: "the budget amounts of \(display)")
                try plan(unit, line, year, amount, ref)
                c.planRows += 1; c.planAmount += amount
            }
            c.annualRead += annual
            c.normalized += 1
            for (i, amount) in perMonth.enumerated() {
                try emit(BudgetLine(unit: unit, line: line, period: Period(year: fiscalYear, month: i + 1)!, amount: amount, source: ref), ref)
                c.monthly += amount
            }
        }
        return c
    }
}
