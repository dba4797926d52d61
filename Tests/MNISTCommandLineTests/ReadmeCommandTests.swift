import Foundation
import IMLBase
import XCTest

/// Every `iml-compare` command the README and docs quote on the committed runs works on a clone,
/// as written: results/published keeps what those commands read (config.json, summary.json and,
/// for the runs they compare, metrics.jsonl).
final class ReadmeCommandTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The quoted commands: inline code or code-block lines that call iml-compare on results/published.
    static func quotedCommands() throws -> [(file: String, command: String)] {
        var files = ["README.md"]
        files += try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        var found: [(String, String)] = []
        let pattern = try NSRegularExpression(pattern: #"(?:swift run )?iml-compare [^`\n]*results/published[^`\n]*"#)
        for file in files.sorted() {
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
        XCTAssertGreaterThanOrEqual(commands.count, 2, "the README quotes iml-compare on the committed runs")
        let tool = try BadInputTests.tool("iml-compare").path
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

    /// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
    static func anchor(_ heading: String) -> String {
        let kept = heading.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == " " || $0 == "_" }
        return String(String.UnicodeScalarView(kept)).replacingOccurrences(of: " ", with: "-")
    }

    func testEveryRelativeLinkInTheReadmeAndDocsResolves() throws {
        var files = ["README.md"]
        files += try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        let link = try NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
        var checked = 0
        for file in files {
            let url = Self.root.appendingPathComponent(file)
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in link.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let target = String(text[Range(match.range(at: 1), in: text)!])
                if target.range(of: "^[a-z]+:", options: .regularExpression) != nil { continue }  // https:, mailto:
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let linked = parts[0].isEmpty ? url : url.deletingLastPathComponent().appendingPathComponent(parts[0]).standardizedFileURL
                XCTAssertTrue(FileManager.default.fileExists(atPath: linked.path), "\(file): the link \(target) leads nowhere")
                if parts.count == 2, linked.pathExtension == "md", let linkedText = try? String(contentsOf: linked, encoding: .utf8) {
                    let headings = linkedText.split(separator: "\n").filter { $0.hasPrefix("#") }
                        .map { Self.anchor($0.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)) }
                    XCTAssertTrue(headings.contains(parts[1]), "\(file): the link \(target) names no heading of \(parts[0].isEmpty ? file : parts[0])")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 10)
    }
}
