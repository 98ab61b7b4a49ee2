// libFuzzer target: the amount parsers (both decimal marks, SIE) and every date layout.
import RamkollModel
import RamkollReaders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    for decimal in [UInt8(ascii: ","), UInt8(ascii: ".")] {
        let p = AmountParser(decimalSeparator: decimal)
        let fast = p.parse(bytes), general = p.parse(Array(bytes))
        // The fast path and the general one agree, and every amount is within the limit.
        if case .success(let a) = fast {
            guard case .success(let b) = general, a == b else { fatalError("fast and general parsers disagree") }
            precondition(a.value.magnitude <= Ore.rowLimit)
        }
    }
    if let v = SIEAmount.parse(String(decoding: bytes, as: UTF8.self)) { precondition(v.magnitude <= Ore.rowLimit) }
    for layout in DateLayout.allCases { _ = layout.parse(bytes) }
    return 0
}
