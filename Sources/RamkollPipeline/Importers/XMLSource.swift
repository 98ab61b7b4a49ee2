import Dispatch
import Foundation
import RamkollModel
import RamkollReaders

/// A case-system XML extract read record by record (placements, decisions, payments): what the
/// three formats share — recognising an extract by its record element, and `check` trying the
/// required field paths on the first records.
public protocol XMLExtractFormat: SourceFormat {
    /// The element of one record (without a namespace prefix).
    var recordElement: String { get }
    associatedtype Field: RawRepresentable & Hashable where Field.RawValue == String
    /// The fields every record needs (a profile must give their paths).
    static var requiredFields: [Field] { get }
    /// Field → path relative to the record element.
    var fields: [Field: String] { get }
}

extension XMLExtractFormat {
    public var hasPersons: Bool { true }
    public var declaredEncoding: String { "declared" }

    /// The required fields' paths, which `check` tries on the first records.
    var requiredPaths: [(field: String, path: String)] {
        fields.filter { Self.requiredFields.contains($0.key) }.map { ($0.key.rawValue, $0.value) }
    }

    public func recognise(_ path: String, display: String) -> String? {
        let head = Inbox.firstBytes(path, 65_536)
        guard head.hasPrefix("<?xml") || head.hasPrefix("\u{FEFF}<") || head.hasPrefix("<") else {
            return "\(file): not an XML document"
        }
        // The record element, with or without a namespace prefix.
        let pattern = "<([A-Za-z_][A-Za-z0-9_.-]*:)?\(NSRegularExpression.escapedPattern(for: recordElement))[\\s/>]"
        return head.range(of: pattern, options: .regularExpression) != nil ? nil : "\(file): no <\(recordElement)> record in the document"
    }

    public func preflight(_ source: PipelineConfig.Source, shown: String) -> [Diagnostic] {
        Preflight.fieldPaths(source, shown: shown, record: recordElement, profile: file, paths: requiredPaths)
    }
}

/// The ids of an extract whose records carry none (the profile gives no `id` path): each record
/// is `gen-<first 12 hex digits of the file's SHA-256>-<record number>`, the same for the same
/// bytes on every run, and a warning says so.
struct GeneratedIDs {
    private let prefix: String?
    /// nil when the profile names an id path (the records' own ids are used).
    init(_ source: PipelineConfig.Source, idPath: String?, record: String, sink: any RowSink, counts c: inout ImportCounts) throws {
        guard idPath == nil else { prefix = nil; return }
        let (hex, _) = try FileIO.sha256(ofFile: source.path)
        prefix = "gen-" + hex.prefix(12) + "-"
        try sink.warning(
            sourceID: source.id, at: SourceRef(file: source.displayPath, line: 0),
            message:
                "the extract's <\(record)> records carry no id (the profile gives no id path): each gets gen-\(hex.prefix(12))-<record number> (the first 12 hex digits of the file's SHA-256), the same for these bytes on every run"
        )
        c.checks["ids_generated"] = 0
    }
    /// The generated id of record `index`, or nil when the records carry their own.
    func id(_ index: Int, counts c: inout ImportCounts) -> String? {
        guard let prefix else { return nil }
        c.checks["ids_generated", default: 0] += 1
        return prefix + String(index)
    }
}

/// The record loop every case-system XML importer shares. A document that cannot be opened (or
/// declares entities) or breaks part-way is a file-level reject naming the line — the records
/// before the break are kept and the run goes on with a data error; nothing crashes.
///
/// Two cores: a reader thread parses the document (libxml2, the record's values) into batches
/// of records while the calling thread runs the importer on the batch before (identities
/// checked and pseudonymized, values parsed, rows written). Records keep their order; at most
/// `RecordBatches.depth` batches wait, so memory stays bounded whatever the file's size.
enum XMLSource {
    /// Records per batch handed from the reader thread to the importer.
    nonisolated(unsafe) static var batchSize = 256

    static func forEachRecord(
        _ source: PipelineConfig.Source, recordElement: String, fieldPaths: [String], sink: any RowSink, counts c: inout ImportCounts,
        _ body: (XMLRecord, SourceRef, inout ImportCounts) throws -> Void
    ) throws {
        /// libxml2's messages quote the document (a name, an attribute's text): redacted before
        /// they are written anywhere.
        func fileProblem(_ e: ReaderError, _ reason: String, _ error: String) throws {
            let reason = PersonalIdentity.redact(reason), error = PersonalIdentity.redact(error)
            c.fileError = error
            c.fileRejects += 1
            try sink.reject(sourceID: source.id, at: SourceRef(file: source.displayPath, line: e.line ?? 0), field: "", raw: "", reason: reason)
        }
        let reader: XMLRecordReader
        do {
            reader = try XMLRecordReader(path: source.path, recordElement: recordElement, fieldPaths: fieldPaths)
        } catch let e as ReaderError {
            try fileProblem(e, e.message, "\(source.displayPath)\(e.line.map { ":\($0)" } ?? ""): \(e.message)")
            return
        }
        let parse = UnsafeSendable(reader)
        let ending = try RecordBatches.readAhead(
            { put in
                let reader = parse.value
                var batch: [XMLRecord] = []
                batch.reserveCapacity(XMLSource.batchSize)
                do {
                    while let rec = try reader.next() {
                        batch.append(rec)
                        if batch.count == XMLSource.batchSize {
                            guard put(batch) else { return }  // the importer stopped
                            batch.removeAll(keepingCapacity: true)
                        }
                    }
                } catch {
                    if !batch.isEmpty { _ = put(batch) }  // the records before the break
                    throw error
                }
                if !batch.isEmpty { _ = put(batch) }
            },
            consume: { recs in
                for rec in recs {
                    c.rowsRead += 1
                    try body(rec, SourceRef(file: source.displayPath, record: rec.index, line: rec.line), &c)
                }
            })
        guard let ending else { return }
        guard let e = ending as? ReaderError else { throw ending }
        try fileProblem(
            e, "XML extract is broken: \(e.message); records after line \(e.line ?? 0) were not read — ask for a new extract",
            "\(source.displayPath)\(e.line.map { ":\($0)" } ?? ""): \(e.message); records after this point were not read")
    }
}

/// A value handed to the reader thread, which alone uses it until the loop ends.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The batches between a reader thread and the thread that handles them: a bounded queue, then
/// how the input ended (nil: at its end; else the error that stopped it).
final class Batches<Batch>: @unchecked Sendable {
    enum Item { case records(Batch), end(Error?) }
    static var depth: Int { 4 }
    private var queue: [Batch] = []
    private var ending: Error?? = .none
    private var cancelled = false
    private let condition = NSCondition()

    /// Waits for room; false when the reading side should stop (the handler has stopped).
    func put(_ batch: Batch) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while queue.count >= Batches.depth && !cancelled { condition.wait() }
        if cancelled { return false }
        queue.append(batch)
        condition.broadcast()
        return true
    }

    func finish(_ error: Error?) {
        condition.lock(); defer { condition.unlock() }
        ending = .some(error)
        condition.broadcast()
    }

    func take() -> Item {
        condition.lock(); defer { condition.unlock() }
        while queue.isEmpty && ending == nil { condition.wait() }
        if !queue.isEmpty {
            condition.broadcast()
            return .records(queue.removeFirst())
        }
        return .end(ending!)
    }

    func cancel() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
    }

    /// Reads ahead on a second thread: `produce` runs there and hands each batch to `put`, which
    /// answers false once the calling thread has stopped (`produce` then returns); `consume`
    /// runs on the calling thread for each batch, in order. Returns nil when `produce` returned,
    /// or what it threw, after every batch it handed on; if `consume` throws, the reading thread
    /// is stopped and waited for before the error goes on.
    static func readAhead(
        _ produce: @escaping @Sendable (_ put: (Batch) -> Bool) throws -> Void, consume: (Batch) throws -> Void
    ) throws -> Error? {
        let batches = Batches<Batch>()
        let done = DispatchGroup()
        DispatchQueue.global().async(group: done) {
            do {
                try produce { batches.put($0) }
                batches.finish(nil)
            } catch {
                batches.finish(error)
            }
        }
        defer {
            batches.cancel()
            done.wait()
        }
        while true {
            switch batches.take() {
            case .records(let b): try consume(b)
            case .end(let e): return e
            }
        }
    }
}

/// The batches between the XML reader thread and the importer.
typealias RecordBatches = Batches<[XMLRecord]>
