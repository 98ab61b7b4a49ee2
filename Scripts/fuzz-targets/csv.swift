// libFuzzer target: the CSV reader (both delimiters), every field of every record.
import Foundation
import RamkollReaders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzFile.write(data, size)
    for delimiter in [UInt8(ascii: ";"), UInt8(ascii: ",")] {
        guard let r = try? CSVReader(path: path, delimiter: delimiter, chunkSize: 64) else { continue }
        while (try? r.next()) == true {
            var n = 0
            for i in 0..<r.fieldCount { n &+= r.bytes(i).count }
            _ = n
        }
    }
    return 0
}
