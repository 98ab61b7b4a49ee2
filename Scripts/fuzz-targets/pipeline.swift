// libFuzzer target: the pipeline-file loader (YAML, every section and setting).
import Foundation
import RamkollPipeline

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzFile.write(data, size, suffix: ".yaml")
    _ = PipelineConfig.load(path: path)
    return 0
}
