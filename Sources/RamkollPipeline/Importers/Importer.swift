import RamkollModel

/// Counts one importer reports for one source: rows read = normalized + rejected, and the same
/// for öre (a rejected row whose amount could not be read is counted in `rejectedWithoutAmount`).
public struct ImportCounts: Sendable {
    public var rowsRead: Int64 = 0
    public var rowsNormalized: Int64 = 0
    public var rowsRejected: Int64 = 0
    public var amountRead = Ore.zero
    public var amountNormalized = Ore.zero
    public var amountRejected = Ore.zero
    public var rejectedWithoutAmount: Int64 = 0
    /// Rows read but deliberately not used, by reason (struck #BTRANS rows, the #TRANS duplicating
    /// an #RTRANS, other object slices, other years); their öre are in `amountSkipped`.
    public var skipped: [String: Int64] = [:]
    public var amountSkipped = Ore.zero
    public var rowsSkipped: Int64 { skipped.values.reduce(0, +) }
    /// Source-specific control figures (vouchers, identities checked and failed, …).
    public var checks: [String: Int64] = [:]
    /// A file-level problem that stopped reading part of the file (e.g. truncated XML), or a
    /// total the file states that its rows do not reach.
    public var fileError: String?
    /// Rows written to rejects.csv for file-level problems (not rows of the file).
    public var fileRejects: Int64 = 0
    /// The absolute total of the amounts read (`Ore.runLimit` bounds it).
    public var tally = MoneyTally()

    /// Counts an amount read, before anything else adds it up: past `Ore.runLimit` the run
    /// cannot sum exactly, so it stops with a data error naming the largest amount.
    public mutating func read(_ a: Ore, file: String, line: Int) throws {
        try tally.count(a, file: file, line: line, what: "the amounts read from \(file)")
        amountRead += a
    }
}

/// What the sink's books need of a ledger row on the byte-level path (views valid for the call).
public struct LedgerRowFacts {
    public let sourceID: String, file: String, line: Int, period: Period, amount: Ore
    public let voucher: UnsafeBufferPointer<UInt8>, account: UnsafeBufferPointer<UInt8>, ansvar: UnsafeBufferPointer<UInt8>
    public let text: UnsafeBufferPointer<UInt8>
    /// The voucher is known to need no quotes in a table (a field of a `;` record without a
    /// quote); false: not known, the writer looks.
    public var voucherPlain = false
}

/// A source system's reader: given a source and its profile, stream rows into the sinks of the
/// record kinds it reads. Its format (`SourceFormat.importer()`) makes it.
public protocol SourceImporter: Sendable {
    func read(_ source: PipelineConfig.Source, context: StageContext, into sink: any RecordSinks) throws -> ImportCounts
}

extension ImportCounts {
    /// Adds another importer's counts (for the stage's totals over all sources).
    /// The sums stay exact: each side is within `Ore.runLimit` (or its reader threw), and
    /// `checkTally` after each `add` stops the run before a third could come.
    mutating func add(_ o: ImportCounts) {
        rowsRead += o.rowsRead; rowsNormalized += o.rowsNormalized; rowsRejected += o.rowsRejected
        amountRead += o.amountRead; amountNormalized += o.amountNormalized; amountRejected += o.amountRejected
        rejectedWithoutAmount += o.rejectedWithoutAmount; fileRejects += o.fileRejects; amountSkipped += o.amountSkipped
        tally.absorb(o.tally)
        for (r, n) in o.skipped { skipped[r, default: 0] += n }
    }

    /// The data error when the amounts added so far pass `Ore.runLimit`.
    func checkTally(_ what: String) throws {
        if tally.exceeded { throw tally.error(what) }
    }

    /// The manifest totals, keys prefixed (`source.hb2021.` for one source, empty for all).
    func totals(prefix k: String) -> [String: Int64] {
        [
            k + "rows_read": rowsRead, k + "rows_normalized": rowsNormalized, k + "rows_rejected": rowsRejected, k + "rows_skipped": rowsSkipped,
            k + "amount_read_ore": amountRead.value, k + "amount_normalized_ore": amountNormalized.value,
            k + "amount_rejected_ore": amountRejected.value, k + "amount_skipped_ore": amountSkipped.value,
            k + "rejected_rows_without_amount": rejectedWithoutAmount,
        ]
    }

    /// The conservation identities: rows and öre read = normalized + rejected + skipped.
    func balances(label: String) -> [Balance] {
        [
            Balance(
                "\(label)rows_read = rows_normalized + rows_rejected + rows_skipped", left: rowsRead,
                right: rowsNormalized + rowsRejected + rowsSkipped),
            Balance(
                "\(label)amount_read_ore = amount_normalized_ore + amount_rejected_ore + amount_skipped_ore", left: amountRead.value,
                right: amountNormalized.value + amountRejected.value + amountSkipped.value),
        ]
    }
}
