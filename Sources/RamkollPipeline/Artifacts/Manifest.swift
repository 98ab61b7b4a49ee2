import Foundation
import RamkollModel

public struct InputRecord: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var bytes: Int64
    public var role: String
}

public struct OutputRecord: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var bytes: Int64
    public var rows: Int64
}

/// A control-total identity, e.g. `rows_read = rows_normalized + rows_rejected`, with both sides.
public struct Balance: Codable, Sendable, Equatable {
    public var identity: String
    public var left: Int64
    public var right: Int64
    public var balanced: Bool
    public init(_ identity: String, left: Int64, right: Int64) {
        self.identity = identity; self.left = left; self.right = right; self.balanced = left == right
    }
}

/// What every stage writes beside its outputs: a self-describing, reproducible record.
/// Timings live in `timings.json` beside it, because they are the one thing that differs between
/// two runs on the same inputs; the manifest itself is byte-identical across such runs.
public struct StageManifest: Codable, Sendable {
    public var schema = "ramkoll.stage-manifest/1"
    public var stage: String
    public var pipeline: String
    public var asOf: String
    public var fiscalYear: Int
    public var toolVersion: String = RamkollVersion.string
    /// The build that wrote it (`RamkollVersion.build`); nil in manifests written before builds were named.
    public var build: String? = RamkollVersion.build
    public var settingsSha256: String
    public var inputs: [InputRecord]
    public var outputs: [OutputRecord]
    public var totals: [String: Int64]
    public var balances: [Balance]
    public var notes: [String]
    /// What makes the run end with a data error (exit 65), as found by this stage; nil when nothing.
    public var dataErrors: [String]?
    public var timings = "timings.json"

    enum CodingKeys: String, CodingKey {
        case schema, stage, pipeline, asOf = "as_of", fiscalYear = "fiscal_year", toolVersion = "tool_version", build,
            settingsSha256 = "settings_sha256", inputs, outputs, totals, balances, notes, dataErrors = "data_errors", timings
    }

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public func write(to directory: String) throws {
        var data = try StageManifest.encoder().encode(self)
        data.append(0x0A)
        try FileIO.writeAtomically(data, to: directory + "/manifest.json")
    }

    public static func read(from directory: String) throws -> StageManifest {
        let path = directory + "/manifest.json"
        guard let d = FileManager.default.contents(atPath: path) else {
            throw RamkollError(.input, "\(path): no manifest; run the earlier stages first (ramkoll run PIPELINE --from STAGE)")
        }
        do { return try JSONDecoder().decode(StageManifest.self, from: d) } catch {
            // The stage whose folder it is: rerunning it writes the manifest again.
            let folder = (directory as NSString).lastPathComponent
            let stage = StageName.allCases.first { $0.folder == folder }?.rawValue ?? "that stage"
            throw RamkollError(
                .input,
                "\(path): manifest cannot be read: it was changed or damaged after the stage wrote it — rerun from \(stage) (ramkoll run PIPELINE --from \(stage)); ramkoll verify names every change of a run"
            )
        }
    }
}

/// Wall-clock facts of one stage run (not reproducible by nature, so kept out of the manifest).
public struct StageTimings: Codable, Sendable {
    public var stage: String
    public var startedAt: String
    public var seconds: Double
    enum CodingKeys: String, CodingKey { case stage, startedAt = "started_at", seconds }
}
