import Foundation
import RamkollModel

/// Boring reruns: a stage runs only when something it read changed. An earlier run's stage is
/// reused (its files linked into the new run) when its manifest is complete, was made with the
/// same settings hash (pipeline file, profiles, mapping tables, tool version) for the same
/// period, every input it lists has the same SHA-256 now, and its outputs are still the bytes its
/// manifest names. The prognosis stage with a forecast history always runs: it reads the
/// checkpoints' own runs, and a checkpoint may have been run again since.
public enum Reuse {
    public struct Decision: Sendable {
        public var stage: StageName
        public var run: Bool
        public var reason: String
        public var source: (id: String, directory: String)?
    }

    /// Whether `stage` of the run in `candidate` can be reused. `upstream` is the folder whose
    /// stage folders hold the earlier stages' outputs as this run will see them.
    public static func check(
        _ stage: StageName, candidate: (id: String, directory: String), upstream: String, config: PipelineConfig, settingsHash: String
    ) -> (reusable: Bool, reason: String) {
        let dir = candidate.directory + "/" + stage.folder
        guard let m = try? StageManifest.read(from: dir) else { return (false, "run \(candidate.id) has no complete \(stage.rawValue)") }
        guard m.asOf == config.asOf.description else { return (false, "run \(candidate.id) is for \(m.asOf)") }
        guard m.settingsSha256 == settingsHash else {
            return (false, "settings changed since run \(candidate.id) (pipeline file, a profile, a mapping table or the tool version)")
        }
        guard m.build == RamkollVersion.build else {
            return (false, "run \(candidate.id) was made by another build of ramkoll (\(m.build ?? "unnamed")); this is \(RamkollVersion.build)")
        }
        if stage == .prognosis && config.forecastHistory != nil {
            return (false, "it reads the forecast history, whose checkpoint runs may have been run again")
        }
        for input in m.inputs {
            let path: String
            if input.path.hasPrefix("../0") {
                path = upstream + "/" + input.path.dropFirst(3)  // "../02-normalize/x" from a stage folder
            } else {
                path = config.absolute(input.path)
            }
            let now = FileIO.exists(path) ? ((try? FileIO.sha256(ofFile: path).hex) ?? "unreadable") : "missing"
            if now != input.sha256 {
                let what = input.path.hasPrefix("../0") ? String(input.path.dropFirst(3)) : input.path
                return (false, now == "missing" ? "\(what) is missing" : "\(what) changed since run \(candidate.id)")
            }
        }
        for output in m.outputs {
            let path = dir + "/" + output.path
            guard FileIO.exists(path), (try? FileIO.sha256(ofFile: path).hex) == output.sha256 else {
                return (false, "run \(candidate.id)'s \(stage.folder)/\(output.path) is not what its manifest says")
            }
        }
        return (true, "inputs, settings and tool version unchanged since run \(candidate.id)")
    }
}
