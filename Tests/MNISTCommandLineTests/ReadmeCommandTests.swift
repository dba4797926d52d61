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
}
