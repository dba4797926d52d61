// A run directory: config.json, metrics.jsonl, summary.json, curves.png, checkpoints/. Every file
// is written through AtomicFile; an existing run is never overwritten unless the user says so.

import Foundation
import IMLBase

public struct RunDirectory {
    public let url: URL

    public static let configFile = "config.json"
    public static let metricsFile = "metrics.jsonl"
    public static let summaryFile = "summary.json"
    public static let curvesFile = "curves.png"

    /// Opens `path` for a new run. Refuses a path that is a file, or a directory that already
    /// holds a run unless `force` is set.
    public static func create(_ path: String, force: Bool) throws -> RunDirectory {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        var claim: RunClaim?
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue {
                throw IMLError("The output path \(path) is a file, not a directory; choose another --out.")
            }
            // A run in progress there is named first: --force must not pull files from under it.
            claim = try RunClaim(url)
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(configFile).path), !force {
                throw IMLError("The output directory \(path) already holds a run; continue it with --resume \(path), overwrite it with --force, or choose another --out.")
            }
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw IMLError("Cannot create the output directory \(path) (\(error.localizedDescription)); check the path and its permissions.")
        }
        return RunDirectory(url: url, resumes: false, claim: try claim ?? RunClaim(url))
    }

    /// Opens the run in `path` to continue it from its checkpoints.
    public static func openForResume(_ path: String) throws -> RunDirectory {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw IMLError("There is no run to resume in \(path): the directory does not exist; check the path given to --resume.")
        }
        guard isDirectory.boolValue else {
            throw IMLError("--resume \(path) names a file, not a run directory; give the directory the run was writing to.")
        }
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent(configFile).path) else {
            throw IMLError("There is no run to resume in \(path) (it has no config.json); check the path, or start a new run with --out \(path).")
        }
        return RunDirectory(url: url, resumes: true, claim: try RunClaim(url))
    }

    /// A run directory to read (no claim).
    public init(url: URL) { self.url = url; resumes = false; claim = nil }
    init(url: URL, resumes: Bool, claim: RunClaim?) { self.url = url; self.resumes = resumes; self.claim = claim }

    /// This process's claim on the directory (see RunClaim), held as long as this value lives.
    let claim: RunClaim?

    /// True when opened to continue a run from its checkpoints.
    public let resumes: Bool

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    public func write(_ json: JSON, to name: String) throws {
        try AtomicFile.write(json.serialized(pretty: true) + "\n", to: file(name))
    }

    public func writeMetrics(_ records: [MetricRecord]) throws {
        try AtomicFile.write(records.map { $0.json.serialized() + "\n" }.joined(), to: file(Self.metricsFile))
    }

    /// Reads metrics.jsonl back, every line a record (FinishedRun also checks them against config.json).
    public func readMetrics() throws -> [MetricRecord] {
        let data = try Data(contentsOf: file(Self.metricsFile))
        if data.isEmpty { return [] }
        return try RunRecords.parse(data, path: file(Self.metricsFile).path,
                                    fix: "restore it from a copy of the run, or rewrite it from the run's checkpoints with `run --resume \(url.path)`").map(\.record)
    }

    /// Default location: results/<modality>/<UTC timestamp>.
    public static func defaultPath(modality: String, date: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "results/\(modality)/\(f.string(from: date))"
    }
}

/// The package version and, when run from a git checkout, its commit (for config.json).
public enum Provenance {
    public static let packageVersion = "0.1.0"

    public static func gitCommit() -> String? {
        guard let outcome = try? ChildProcess.run("git", ["rev-parse", "--short=12", "HEAD"], timeout: 10),
              outcome.status == 0 else { return nil }
        let out = outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return out.isEmpty ? nil : out
    }
}
