import Foundation
import XCTest

/// The project's documentation stands alone (issue 20): what users read — the README, `docs/`, the
/// pipelines, profiles and mapping tables, the scripts and the sources' comments — never sends them
/// to notes outside the repository or names the documents behind the tables by private numbers,
/// and every link between the pages leads to a file that exists.
final class DocsTests: XCTestCase {
    static let read = ["README.md", "docs", "Pipelines", "Scripts", "Sources", "Package.swift"]

    func files() throws -> [String] {
        let root = TestPaths.root.path
        var out: [String] = []
        for entry in DocsTests.read {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + entry, isDirectory: &isDir) else { continue }
            if !isDir.boolValue { out.append(entry); continue }
            for case let f as String in FileManager.default.enumerator(atPath: root + "/" + entry)! {
                let ext = (f as NSString).pathExtension
                if ["md", "swift", "yaml", "csv", "py", ""].contains(ext) { out.append(entry + "/" + f) }
            }
        }
        return out.sorted()
    }

    func testNothingPointsOutsideTheRepository() throws {
        var found: [String] = []
        for f in try files() {
            guard let text = try? String(contentsOfFile: TestPaths.root.path + "/" + f, encoding: .utf8) else { continue }
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains("DOMAIN.md") || line.contains("../shared")
                || line.range(of: #"(?i)\bseeds? 00[0-9]"#, options: .regularExpression) != nil
            {
                found.append("\(f):\(i + 1): \(line.prefix(120))")
            }
        }
        XCTAssertEqual(found, [], "the docs must stand alone:\n" + found.joined(separator: "\n"))
    }

    func testEveryLinkBetweenThePagesLeadsSomewhere() throws {
        let root = TestPaths.root.path
        let pages =
            ["README.md"] + (try FileManager.default.contentsOfDirectory(atPath: root + "/docs")).filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        var broken: [String] = []
        var linked = Set<String>()
        for page in pages {
            let text = try String(contentsOfFile: root + "/" + page, encoding: .utf8)
            let base = (page as NSString).deletingLastPathComponent
            for m in text.matches(of: /\]\(([^)#\s]+)(#[^)]*)?\)/) {
                let target = String(m.output.1)
                if target.hasPrefix("http") { continue }
                let path = base.isEmpty ? target : base + "/" + target
                let resolved = URL(fileURLWithPath: root + "/" + path).standardizedFileURL.path
                if FileManager.default.fileExists(atPath: resolved) { linked.insert(resolved) } else { broken.append("\(page): \(target)") }
            }
        }
        XCTAssertEqual(broken, [])
        // Every page in docs/ is reachable from the README or another page.
        for page in pages where page != "README.md" && page.hasSuffix(".md") {
            XCTAssertTrue(linked.contains(root + "/" + page), "\(page) is linked from no page")
        }
        let readme = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        XCTAssertLessThan(readme.split(separator: "\n", omittingEmptySubsequences: false).count, 300, "the README is what a newcomer reads first")
    }
}
