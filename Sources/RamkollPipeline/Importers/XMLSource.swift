import RamkollModel
import RamkollReaders

/// The record loop every case-system XML importer shares. A document that cannot be opened (or
/// declares entities) or breaks part-way is a file-level reject naming the line — the records
/// before the break are kept and the run goes on with a data error; nothing crashes.
enum XMLSource {
    static func forEachRecord(
        _ source: PipelineConfig.Source, recordElement: String, fieldPaths: [String], sink: NormalizeSink, counts c: inout ImportCounts,
        _ body: (XMLRecord, SourceRef, inout ImportCounts) throws -> Void
    ) throws {
        func fileProblem(_ e: ReaderError, _ reason: String, _ error: String) throws {
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
        while true {
            let rec: XMLRecord?
            do { rec = try reader.next() } catch let e as ReaderError {
                try fileProblem(
                    e, "XML extract is broken: \(e.message); records after line \(e.line ?? 0) were not read — ask for a new extract",
                    "\(source.displayPath)\(e.line.map { ":\($0)" } ?? ""): \(e.message); records after this point were not read")
                return
            }
            guard let rec else { return }
            c.rowsRead += 1
            try body(rec, SourceRef(file: source.displayPath, record: rec.index, line: rec.line), &c)
        }
    }
}
