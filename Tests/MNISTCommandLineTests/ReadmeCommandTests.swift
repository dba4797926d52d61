import Foundation
import IMLBase
import ToolTestSupport
import XCTest

/// The README and docs/ as a reader meets them on a clone: every `iml-compare` command they quote
/// on the committed runs works as written (results/published keeps what those commands read:
/// config.json, summary.json and, for the runs they compare, metrics.jsonl); every result table
/// equals what its committed runs give; every relative link and image resolves; the layout table
/// names every target; the test command is the one CI runs.
final class ReadmeCommandTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// README.md and every .md under docs/, as paths relative to `root`, sorted.
    static func documents(root: URL = root) -> [String] {
        let docs = root.appendingPathComponent("docs")
        let found = (FileManager.default.enumerator(atPath: docs.path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        return ["README.md"] + found.sorted()
    }

    /// The quoted commands: inline code or code-block lines that call iml-compare on results/published.
    static func quotedCommands() throws -> [(file: String, command: String)] {
        var found: [(String, String)] = []
        let pattern = try NSRegularExpression(pattern: #"(?:swift run )?iml-compare [^`\n]*results/published[^`\n]*"#)
        for file in documents() {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let command = String(text[Range(match.range, in: text)!]).trimmingCharacters(in: .whitespaces)
                found.append((file, command))
            }
        }
        return found
    }

    func testEveryQuotedCompareCommandWorksOnTheCommittedRuns() throws {
        let commands = try Self.quotedCommands()
        XCTAssertGreaterThanOrEqual(commands.count, 2, "the README and docs quote iml-compare on the committed runs")
        let tool = try ToolTestCase.tool("iml-compare").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("readme-commands-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        for (index, (file, quoted)) in commands.enumerated() {
            var command = quoted.replacingOccurrences(of: "swift run iml-compare", with: "iml-compare")
            command = command.replacingOccurrences(of: "--out DIR", with: "--out \(out.path)/\(index)")
            if !command.contains("--out ") { command += " --out \(out.path)/\(index)" }
            // As a shell reads it (brace expansion included), with the built tool.
            let shell = "cd '\(Self.root.path)' && '\(tool)'" + command.dropFirst("iml-compare".count)
            let outcome = try ChildProcess.run("/bin/bash", ["-c", shell], timeout: 120)
            XCTAssertEqual(outcome.status, 0, "\(file): `\(quoted)` failed on a clone: \(outcome.stderr)")
        }
    }

    // MARK: Result tables

    /// `iml-compare --readme README.md --check` passes on the repository and covers docs/results.md;
    /// in a copy, a block of docs/results.md is rendered from its run and a changed digit is caught.
    func testTheResultTablesOfTheReadmeAndDocsMatchTheCommittedRuns() throws {
        let tool = try ToolTestCase.tool("iml-compare").path
        let repository = try ChildProcess.run(tool, ["--readme", Self.root.appendingPathComponent("README.md").path, "--check"], timeout: 120)
        XCTAssertEqual(repository.status, 0, "README.md or docs/results.md differ from results/published: \(repository.stderr)")
        XCTAssertTrue(repository.stdout.contains("README.md, docs/results.md:"), "the check covers both files: \(repository.stdout)")

        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("readme-tables-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        let run = "results/published/mnist-default"
        try FileManager.default.createDirectory(at: copy.appendingPathComponent(run), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: copy.appendingPathComponent("docs"), withIntermediateDirectories: true)
        for file in ["config.json", "summary.json"] {
            try FileManager.default.copyItem(at: Self.root.appendingPathComponent(run + "/" + file), to: copy.appendingPathComponent(run + "/" + file))
        }
        let readme = copy.appendingPathComponent("README.md"), results = copy.appendingPathComponent("docs/results.md")
        try "# Copy\n".write(to: readme, atomically: true, encoding: .utf8)
        try "# Results\n\n<!-- results: summary mnist-default -->\nold\n<!-- /results -->\n".write(to: results, atomically: true, encoding: .utf8)
        func compare(_ arguments: [String]) throws -> ChildProcess.Outcome {
            try ChildProcess.run(tool, ["--readme", readme.path] + arguments, timeout: 120)
        }
        let stale = try compare(["--check"])
        XCTAssertNotEqual(stale.status, 0)
        XCTAssertTrue(stale.stderr.contains("docs/results.md: <!-- results: summary mnist-default -->"), stale.stderr)
        XCTAssertEqual(try String(contentsOf: results, encoding: .utf8).components(separatedBy: "\n")[3], "old", "--check changes nothing")

        XCTAssertEqual(try compare([]).status, 0)
        let rendered = try String(contentsOf: results, encoding: .utf8)
        XCTAssertTrue(rendered.contains("| 2 | **IML effect d1consis − d2consis** | **0.530 ± 0.070** |"), rendered)
        XCTAssertEqual(try compare(["--check"]).status, 0)

        try rendered.replacingOccurrences(of: "**0.530 ± 0.070**", with: "**0.531 ± 0.070**").write(to: results, atomically: true, encoding: .utf8)
        let edited = try compare(["--check"])
        XCTAssertNotEqual(edited.status, 0)
        XCTAssertTrue(edited.stderr.contains("docs/results.md: <!-- results: summary mnist-default -->"), edited.stderr)
    }

    // MARK: Links

    /// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
    static func anchor(_ heading: String) -> String {
        let kept = heading.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == " " || $0 == "_" }
        return String(String.UnicodeScalarView(kept)).replacingOccurrences(of: " ", with: "-")
    }

    /// The lines of `text` with those of fenced code blocks left empty.
    static func outsideFences(_ text: String) -> [String] {
        var lines: [String] = [], fence: String?
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let open = fence {
                if trimmed.hasPrefix(open) { fence = nil }
                lines.append("")
            } else if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                fence = String(trimmed.prefix(3))
                lines.append("")
            } else {
                lines.append(line)
            }
        }
        return lines
    }

    /// The text outside fenced code blocks and inline code spans, which a reader sees as prose.
    static func prose(_ text: String) -> String {
        let joined = outsideFences(text).joined(separator: "\n")
        // A code span may run over a line break, not over a blank line.
        let span = try! NSRegularExpression(pattern: #"(`+)(?:(?!\n\s*\n)[\s\S])*?\1"#)
        return span.stringByReplacingMatches(in: joined, range: NSRange(joined.startIndex..., in: joined), withTemplate: "")
    }

    /// The anchors of a markdown file: its headings (outside code blocks; code in a heading counts
    /// as its text), a repeated one as GitHub numbers it (-1, -2, ...), and `<a name>` / `id` anchors.
    static func anchors(_ text: String) -> Set<String> {
        var result = Set<String>(), counts: [String: Int] = [:]
        let heading = try! NSRegularExpression(pattern: #"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$"#)
        for line in outsideFences(text) {
            guard let match = heading.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) else { continue }
            let slug = anchor(String(line[Range(match.range(at: 1), in: line)!]))
            let seen = counts[slug, default: 0]
            result.insert(seen == 0 ? slug : "\(slug)-\(seen)")
            counts[slug] = seen + 1
        }
        let explicit = try! NSRegularExpression(pattern: #"<a\s+(?:name|id)="([^"]+)""#)
        for match in explicit.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            result.insert(String(text[Range(match.range(at: 1), in: text)!]))
        }
        return result
    }

    /// The link targets of a markdown file's prose: inline links and images (with or without a
    /// title), reference definitions, and HTML `src`/`href` attributes.
    static func targets(_ text: String) -> [String] {
        let prose = prose(text)
        let patterns = [
            #"\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)"#,
            #"(?m)^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)"#,
            #"(?:src|href)\s*=\s*"([^"]*)""#,
        ]
        var found: [String] = []
        for pattern in patterns {
            let regex = try! NSRegularExpression(pattern: pattern)
            for match in regex.matches(in: prose, range: NSRange(prose.startIndex..., in: prose)) {
                var target = String(prose[Range(match.range(at: 1), in: prose)!])
                if target.hasPrefix("<"), target.hasSuffix(">") { target = String(target.dropFirst().dropLast()) }
                found.append(target)
            }
        }
        return found
    }

    /// Every relative link of `files` (paths under `root`) that leads nowhere, or to a heading its
    /// file does not have, as "FILE: the link TARGET ..."; and how many relative links were checked.
    static func brokenLinks(root: URL, files: [String]) throws -> (broken: [String], checked: Int) {
        var broken: [String] = [], checked = 0
        for file in files {
            let url = root.appendingPathComponent(file)
            for target in targets(try String(contentsOf: url, encoding: .utf8)) {
                if target.range(of: "^[A-Za-z][A-Za-z0-9+.-]*:", options: .regularExpression) != nil { continue }  // https:, mailto:
                checked += 1
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard let path = parts[0].removingPercentEncoding, !target.isEmpty else {
                    broken.append("\(file): the link \"\(target)\" is empty or badly encoded"); continue
                }
                let linked = path.isEmpty ? url
                    : path.hasPrefix("/") ? root.appendingPathComponent(String(path.dropFirst())).standardizedFileURL
                    : url.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: linked.path, isDirectory: &isDirectory) else {
                    broken.append("\(file): the link \(target) leads nowhere"); continue
                }
                if parts.count == 2, !isDirectory.boolValue, linked.pathExtension == "md" {
                    let linkedText = try String(contentsOf: linked, encoding: .utf8)
                    if !anchors(linkedText).contains(parts[1]) {
                        broken.append("\(file): the link \(target) names no heading of \(path.isEmpty ? file : path)")
                    }
                }
            }
        }
        return (broken, checked)
    }

    func testEveryRelativeLinkInTheReadmeAndDocsResolves() throws {
        let files = Self.documents()
        XCTAssertTrue(files.contains("docs/results.md") && files.contains("docs/reproducing.md"), "\(files)")
        let (broken, checked) = try Self.brokenLinks(root: Self.root, files: files)
        XCTAssertEqual(broken, [])
        XCTAssertGreaterThan(checked, 100, "the README and docs link figures and each other")
    }

    /// The checker finds what a reader would find broken, and nothing in code.
    func testTheLinkCheckerCatchesBrokenLinksAndAnchors() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("readme-links-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("docs"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("figures"), withIntermediateDirectories: true)
        try Data().write(to: root.appendingPathComponent("figures/there.png"))
        try """
            # Title
            ## Same
            ## Same
            ## Layout of `Sources/` #
            [ok](docs/a.md#second-heading) [dup](#same-1) [code heading](#layout-of-sources) ![ok](figures/there.png)
            [bad dup](#same-2) ![missing image](figures/none.png) [bad anchor](docs/a.md#nowhere)
            `[in code](nowhere.md)` and ``[in `code`](nowhere.md)``
            ```sh
            [in a fence](nowhere.md)
            # not a heading
            ```
            [titled](docs/missing.md "a title") [dir](docs/) [external](https://example.com/nowhere) [spaced](docs/a%20b.md)
            <img src="figures/gone.png"> [no heading](#not-a-heading)

            [ref]: docs/gone.md
            """.write(to: root.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try "# A\n## Second heading\n[back](../README.md#title) [up](../nothing.md)\n".write(to: root.appendingPathComponent("docs/a.md"), atomically: true, encoding: .utf8)
        try "# B\n".write(to: root.appendingPathComponent("docs/a b.md"), atomically: true, encoding: .utf8)
        let (broken, checked) = try Self.brokenLinks(root: root, files: Self.documents(root: root))
        XCTAssertEqual(broken, [
            "README.md: the link #same-2 names no heading of README.md",
            "README.md: the link figures/none.png leads nowhere",
            "README.md: the link docs/a.md#nowhere names no heading of docs/a.md",
            "README.md: the link docs/missing.md leads nowhere",
            "README.md: the link #not-a-heading names no heading of README.md",
            "README.md: the link docs/gone.md leads nowhere",
            "README.md: the link figures/gone.png leads nowhere",
            "docs/a.md: the link ../nothing.md leads nowhere",
        ])
        XCTAssertEqual(checked, 15)
    }

    // MARK: Layout and test command

    /// The targets Package.swift declares (not its test targets) that the README's layout table
    /// does not name in code.
    static func targetsMissingFromLayout(package: String, readme: String) -> [String] {
        let declared = try! NSRegularExpression(pattern: #"\.(?:target|executableTarget|systemLibrary|plugin|binaryTarget|macro)\(\s*name:\s*"([^"]+)""#)
        let names = declared.matches(in: package, range: NSRange(package.startIndex..., in: package))
            .map { String(package[Range($0.range(at: 1), in: package)!]) }
        let section = ("\n" + readme).components(separatedBy: "\n## ").first { $0.hasPrefix("Layout") } ?? ""
        return names.filter { !section.contains("`\($0)`") }
    }

    func testTheLayoutTableNamesEveryTarget() throws {
        let package = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertEqual(Self.targetsMissingFromLayout(package: package, readme: readme), [], "add them to the README's layout table")
        XCTAssertEqual(Self.targetsMissingFromLayout(package: #".target(name: "A"), .executableTarget(name: "b-c"), .testTarget(name: "ATests")"#,
                                                     readme: "## Layout of `Sources/`\n| `A` | a |\n## Next\n`b-c`"), ["b-c"])
    }

    /// The README states the test command CI runs (.ci/run runs scripts/test.sh).
    func testTheReadmeStatesTheTestCommandCIRuns() throws {
        let ci = try String(contentsOf: Self.root.appendingPathComponent(".ci/run"), encoding: .utf8)
        XCTAssertTrue(ci.contains("bash scripts/test.sh"), ".ci/run no longer runs scripts/test.sh; say in the README what it runs")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Self.root.appendingPathComponent("scripts/test.sh").path))
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        var inFence = false, stated = false
        for line in readme.components(separatedBy: "\n") {
            if line.hasPrefix("```") { inFence.toggle(); continue }
            if inFence, line.range(of: #"^(MNIST_DIR=\S+ )?scripts/test\.sh(\s|$)"#, options: .regularExpression) != nil { stated = true }
        }
        XCTAssertTrue(stated, "the README's code blocks state the test command, scripts/test.sh")
    }
}
