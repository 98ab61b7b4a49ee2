import Foundation
import XCTest

/// What `Scripts/install PREFIX` leaves on a server (issue 20), used as an operator would: the
/// installed `ramkoll` scaffolds and checks a municipality from the data installed beside it, `man
/// -l` shows the page, bash completes stage names and pipeline files, and the installed nightly
/// wrapper runs the installed program from the folder cron starts it in.
///
/// `Scripts/test` installs the debug build into a temporary PREFIX before the suite runs (the tests
/// cannot build: the suite holds the build folder) and names it in RAMKOLL_TEST_INSTALLED_PREFIX.
final class InstallTests: XCTestCase {
    func prefix() throws -> String {
        guard let p = ProcessInfo.processInfo.environment["RAMKOLL_TEST_INSTALLED_PREFIX"], !p.isEmpty else {
            throw XCTSkip("no installed Ramkoll: run the suite with Scripts/test, which runs Scripts/install first")
        }
        return p
    }

    func run(_ exe: String, _ args: [String], in dir: String, environment: [String: String] = [:]) throws -> RamkollResult {
        try runProcess(
            URL(fileURLWithPath: exe), args, environment: ["PATH": "/usr/bin:/bin", "HOME": dir].merging(environment) { $1 },
            in: URL(fileURLWithPath: dir))
    }

    func testTheInstalledProgramScaffoldsAndChecksAMunicipality() throws {
        let prefix = try prefix()
        let fm = FileManager.default
        for f in [
            "bin/ramkoll", "bin/ramkoll-nightly", "share/man/man1/ramkoll.1", "share/bash-completion/completions/ramkoll",
            "share/zsh/site-functions/_ramkoll", "share/fish/vendor_completions.d/ramkoll.fish", "share/ramkoll/kommunbas/accounts.csv",
            "share/ramkoll/kommunbas/report-lines.csv", "share/ramkoll/profiles/sie-4.yaml",
        ] {
            XCTAssertTrue(fm.fileExists(atPath: prefix + "/" + f), "Scripts/install wrote no \(f)")
        }
        let work = try TestPaths.temporaryDirectory()
        let ramkoll = prefix + "/bin/ramkoll"
        let version = try run(ramkoll, ["--version"], in: work)
        XCTAssertTrue(version.stdout.hasPrefix("ramkoll 0.1.0 (build gnu-build-id:"), version.stdout)

        // Away from the checkout: the Kommun-Bas tables and the profiles come from PREFIX/share/ramkoll.
        let made = try run(ramkoll, ["init", "kommun", "--fiscal-year", "2027"], in: work)
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertEqual(
            fm.contents(atPath: work + "/kommun/Pipelines/profiles/sie-4.yaml"), fm.contents(atPath: prefix + "/share/ramkoll/profiles/sie-4.yaml"))
        let checked = try run(ramkoll, ["check", "Pipelines/kommun.yaml"], in: work + "/kommun")
        XCTAssertEqual(checked.status, 0, checked.stdout)
        XCTAssertTrue(checked.stdout.hasSuffix("ok: kommun: 1 sources, 0 budget files, 10 report lines, 7 units, 10 account rules, 5 ansvar rules\n"))

        // The installed nightly wrapper runs the ramkoll beside it, on a pipeline relative to the
        // folder cron starts in: the ledger has not arrived, so the run stops with 66 and says so.
        let nightly = try run(prefix + "/bin/ramkoll-nightly", ["Pipelines/kommun.yaml", "2027-01"], in: work + "/kommun")
        XCTAssertEqual(nightly.status, 66, nightly.stderr)
        XCTAssertTrue(
            nightly.stderr.contains("job=nightly msg=\"run stopped\" pipeline=Pipelines/kommun.yaml as_of=2027-01 status=66 outcome=missing-input"),
            nightly.stderr)
        XCTAssertFalse(nightly.stderr.contains("building"), "an installed nightly job never builds")
    }

    func testTheManPageShowsEveryCommand() throws {
        let prefix = try prefix()
        let man = try run(
            "/usr/bin/env", ["man", "-l", prefix + "/share/man/man1/ramkoll.1"], in: NSTemporaryDirectory(),
            environment: ["MANWIDTH": "100", "MANPAGER": "cat", "PAGER": "cat"])
        XCTAssertEqual(man.status, 0, man.stderr)
        XCTAssertEqual(man.stderr, "", "man warns about the page")
        let page = man.stdout.replacingOccurrences(of: "\u{2010}\n", with: "").replacingOccurrences(of: "-\n", with: "")
        XCTAssertNotNil(page.range(of: "ramkoll (—|--) Batch ETL and reconciliation", options: .regularExpression), page)
        for command in ["run", "retry", "plan", "runs", "verify", "explain", "diff", "inbox", "load", "prune", "check", "init"] {
            XCTAssertNotNil(page.range(of: "(?m)^\\s+\(command)\\s", options: .regularExpression), "the man page has no \(command)")
        }
        XCTAssertTrue(page.contains("--from-export"))
    }

    func testBashCompletesStagesAndPipelineFiles() throws {
        let prefix = try prefix()
        let script = prefix + "/share/bash-completion/completions/ramkoll"
        /// What bash offers after `line` (the word being completed is the last, possibly empty).
        func complete(_ words: [String], in dir: String) throws -> [String] {
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let o = try run(
                "/bin/bash",
                [
                    "-c",
                    "source '\(script)'; COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}; _ramkoll ramkoll \"${COMP_WORDS[-1]}\" \"${COMP_WORDS[-2]}\"; printf '%s\\n' \"${COMPREPLY[@]}\"",
                ], in: dir)
            XCTAssertEqual(o.status, 0, o.stderr)
            return o.stdout.split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(
            try complete(["ramkoll", "run", "--only", ""], in: "/"), ["ingest", "normalize", "reconcile", "deviation", "prognosis", "report"])
        XCTAssertEqual(try complete(["ramkoll", "plan", "--from", "re"], in: "/"), ["reconcile", "report"])
        let pipelines = TestPaths.root.path + "/Pipelines"
        XCTAssertEqual(Set(try complete(["ramkoll", "check", "ex"], in: pipelines)), ["exempelby.yaml", "exempelby"])
        XCTAssertEqual(try complete(["ramkoll", "run", "kommunbas/"], in: pipelines), [], "CSV files are not pipelines")
    }
}
