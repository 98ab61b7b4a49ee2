// libFuzzer target: the XML record reader (libxml2 SAX2, the record and field paths).
import Foundation
import RamkollReaders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzFile.write(data, size)
    let fields = ["@id", "@start", "Vardform", "Person/@pnr", "../@ansvar", "ancestor::Arende/@ansvar", "."]
    guard let r = try? XMLRecordReader(path: path, recordElement: "Placering", fieldPaths: fields) else { return 0 }
    while let rec = try? r.next() { for f in fields { _ = rec.all(f) } }
    return 0
}
