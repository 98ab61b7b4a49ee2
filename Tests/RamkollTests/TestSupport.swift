import Foundation
import Logging
import XCTest
import ZIPFoundation

@testable import RamkollPipeline

/// One part of a ZIP archive (a workbook's sheet, say) as text.
func zipPart(_ archive: Archive, _ name: String) throws -> String {
    var data = Data()
    _ = try archive.extract(archive[name]!) { data.append($0) }
    return String(decoding: data, as: UTF8.self)
}

enum TestPaths {
    /// The package root, found from this file's location (tests run inside the source tree).
    /// The package root. Its pseudonym keys are made the owner's alone on first use (Ramkoll
    /// refuses a key others can read, and git checks files out readable by everyone).
    static let root: URL = {
        let r = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for key in ["SampleInputs/pseudonym-sample.key", "Tests/RamkollTests/Fixtures/small/pseudonym.key"] {
            chmod(r.appendingPathComponent(key).path, 0o600)
        }
        return r
    }()
    static let fixtures = root.appendingPathComponent("Tests/RamkollTests/Fixtures")
    static func fixture(_ p: String) -> String { fixtures.appendingPathComponent(p).path }

    /// A fresh temporary directory for one test.
    static func temporaryDirectory(_ name: String = #function) throws -> String {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramkoll-tests/\(clean)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// Writes `text` to a temporary file and returns its path.
    static func write(_ text: String, name: String, in dir: String) throws -> String {
        let p = dir + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    static func write(bytes: [UInt8], name: String, in dir: String) throws -> String {
        let p = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Where SwiftPM put the built products (the `ramkoll` executable for CLI tests).
    static var productsDirectory: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }
}

let quietLogger = Logger(label: "ramkoll-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// What a finished `ramkoll` process printed, and its exit status.
struct RamkollResult { let status: Int32; let stdout: String; let stderr: String }

/// The built `ramkoll` executable (skips the test when it is not built).
func ramkollExecutable() throws -> URL {
    let exe = TestPaths.productsDirectory.appendingPathComponent("ramkoll")
    guard FileManager.default.fileExists(atPath: exe.path) else {
        throw XCTSkip("ramkoll is not built at \(exe.path); run Scripts/test (it builds the executable with the tests)")
    }
    return exe
}

/// Runs a program to its end from the package root, standard input empty.
func runProcess(_ executable: URL, _ args: [String], environment: [String: String], in directory: URL = TestPaths.root) throws -> RamkollResult {
    let p = Process()
    p.executableURL = executable
    p.arguments = args
    p.currentDirectoryURL = directory
    p.environment = environment
    p.standardInput = FileHandle.nullDevice
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return RamkollResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// Runs the `ramkoll` executable to its end from the package root.
func runRamkoll(_ args: [String], environment: [String: String] = [:]) throws -> RamkollResult {
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    return try runProcess(try ramkollExecutable(), args, environment: env)
}

/// Runs Scripts/nightly as cron would: no environment but PATH and the binary (and `environment`).
func runNightly(_ args: [String], environment: [String: String] = [:]) throws -> RamkollResult {
    var env = ["PATH": "/usr/bin:/bin", "RAMKOLL_BIN": try ramkollExecutable().path]
    for (k, v) in environment { env[k] = v }
    return try runProcess(TestPaths.root.appendingPathComponent("Scripts/nightly"), args, environment: env)
}

/// Starts the `ramkoll` executable in the background (stdout discarded); returns the process and
/// its stderr pipe, for tests that must act while a run is under way (overlap, SIGKILL).
func startRamkoll(_ args: [String]) throws -> (Process, Pipe) {
    let p = Process()
    p.executableURL = TestPaths.productsDirectory.appendingPathComponent("ramkoll")
    p.arguments = args
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    return (p, err)
}

/// Runs a pipeline in-process into `runDir`.
@discardableResult
func runPipeline(_ pipeline: String, runDir: String, selection: Pipeline.Selection = .all, asOf: String? = nil) throws -> Runner.Outcome {
    var o = Runner.Options(pipelinePath: pipeline)
    o.runDirectory = runDir
    o.selection = selection
    if let asOf { o.asOf = .init(asOf) }
    return try Runner(logger: quietLogger).run(o)
}

/// Every file below `dir`, relative paths, sorted.
func filesBelow(_ dir: String) -> [String] {
    let e = FileManager.default.enumerator(atPath: dir)
    var out: [String] = []
    while let p = e?.nextObject() as? String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir + "/" + p, isDirectory: &isDir), !isDir.boolValue { out.append(p) }
    }
    return out.sorted()
}

/// A file of a run as golden files hold it: the build that wrote it (in manifests) is named
/// `(this build)`, since every build of the tests has another identity.
func goldenBytes(_ path: String) throws -> Data {
    let d = try Data(contentsOf: URL(fileURLWithPath: path))
    guard path.hasSuffix("manifest.json"), let text = String(data: d, encoding: .utf8) else { return d }
    return Data(text.replacingOccurrences(of: "\"\(RamkollVersion.build)\"", with: "\"(this build)\"").utf8)
}

/// Compares every file of `actualDir` (except timings.json) with `expectedDir`. With
/// RAMKOLL_RECORD=1 it rewrites the expected files and fails, so a re-record is never silent.
func assertMatchesGolden(_ actualDir: String, _ expectedDir: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let actual = filesBelow(actualDir).filter { !$0.hasSuffix("timings.json") }
    if ProcessInfo.processInfo.environment["RAMKOLL_RECORD"] == "1" {
        try? FileManager.default.removeItem(atPath: expectedDir)
        for f in actual {
            let dest = URL(fileURLWithPath: expectedDir + "/" + f)
            try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try goldenBytes(actualDir + "/" + f).write(to: dest)
        }
        XCTFail("re-recorded golden files in \(expectedDir); review them with git diff and run the tests again", file: file, line: line)
        return
    }
    let expected = filesBelow(expectedDir)
    XCTAssertEqual(actual, expected, "the set of output files differs from \(expectedDir)", file: file, line: line)
    for f in actual where expected.contains(f) {
        let ad = try goldenBytes(actualDir + "/" + f),
            ed = try Data(contentsOf: URL(fileURLWithPath: expectedDir + "/" + f))
        guard ad != ed else { continue }
        guard let a = String(data: ad, encoding: .utf8), let e = String(data: ed, encoding: .utf8) else {
            XCTFail("\(f) (binary) differs from the golden file; RAMKOLL_RECORD=1 re-records", file: file, line: line)
            continue
        }
        let al = a.split(separator: "\n", omittingEmptySubsequences: false), el = e.split(separator: "\n", omittingEmptySubsequences: false)
        let firstDiff = zip(al, el).enumerated().first { $0.element.0 != $0.element.1 }
        let where_ =
            firstDiff.map { "line \($0.offset + 1):\n  expected: \($0.element.1)\n  actual:   \($0.element.0)" }
            ?? "line counts \(el.count) vs \(al.count)"
        XCTFail("\(f) differs from the golden file (\(where_)); RAMKOLL_RECORD=1 re-records", file: file, line: line)
    }
}

/// A copy of the small fixture pipeline in `dir`, every path made absolute, edited by `edit`.
func smallPipelineCopy(in dir: String, name: String = "pipeline.yaml", edit: (String) -> String = { $0 }) throws -> String {
    let base = TestPaths.fixture("small")
    var text = try String(contentsOfFile: base + "/pipeline.yaml", encoding: .utf8)
    text = text.replacingOccurrences(of: "../../../../", with: TestPaths.root.path + "/")
    for f in [
        "pseudonym.key", "units.csv", "ansvar.csv", "ledger-2021.csv", "ledger-2022.csv", "placements.xml", "budget.csv", "manual-forecasts.csv",
    ] {
        text = text.replacingOccurrences(of: " \(f)\n", with: " \(base)/\(f)\n")
    }
    return try TestPaths.write(edit(text), name: name, in: dir)
}
