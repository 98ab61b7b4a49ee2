import Foundation
import RamkollModel

/// Which runs `ramkoll prune` keeps: the `keep` newest runs (by start), every period's newest good
/// run — the month-close run the period's link names, so every checkpoint's too, which later runs'
/// forecast history reads — `latest`, and any run whose record still says `running` (under way, or
/// dead and waiting for `retry`) or cannot be read yet (just starting). Reused files are hard links,
/// so removing an older run never takes a file from a kept one.
public enum Retention {
    public static func plan(_ store: RunStore, keep: Int) -> (kept: Set<String>, removed: [String]) {
        let ids = store.runs()
        let records = Dictionary(uniqueKeysWithValues: ids.map { ($0, RunRecord.read(from: store.directory(of: $0))) })
        var kept = Set<String>()
        let byStart = ids.sorted { (records[$0]??.startedAt ?? "", $0) < (records[$1]??.startedAt ?? "", $1) }
        kept.formUnion(byStart.suffix(keep))
        var newestGood: [Period: String] = [:]
        for id in ids {
            // A folder without a readable record may be a run that is just starting: kept.
            guard let r = records[id] ?? nil else { kept.insert(id); continue }
            if r.state == "running" { kept.insert(id) }
            if r.isGood, let p = RunStore.parse(id)?.asOf { newestGood[p] = id }
        }
        kept.formUnion(newestGood.values)
        if let latest = store.resolve("latest") { kept.insert(URL(fileURLWithPath: latest).lastPathComponent) }
        return (kept, ids.filter { !kept.contains($0) })
    }
}
