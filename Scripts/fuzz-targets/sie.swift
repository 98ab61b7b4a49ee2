// libFuzzer target: the SIE reader (encoding detection, tokenising, #KSUMMA, amounts).
import Foundation
import RamkollReaders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzFile.write(data, size)
    guard let r = try? SIEReader(path: path) else { return 0 }
    try? r.read { record in
        for i in 0..<record.fields.count { _ = record.text(i).flatMap(SIEAmount.parse) }
    }
    return 0
}
