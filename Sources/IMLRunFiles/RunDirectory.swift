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
    public static let curvesVectorFile = "curves.svg"
    /// Saved weights (RunModels) and the analyses of them (ModelAnalysis, one per loss it compares).
    public static let modelsDirectory = "models"
    public static let analysisDirectories = ["analysis", "analysis-answer"]

    /// Every entry a run, its analyses and its figures write in the run directory: a new run
    /// refuses a directory that holds any of them (they would be replaced), and --force removes
    /// all of them, so nothing of the replaced run (its analysis/, seeds the new run lacks) stays.
    public static var entriesOfARun: [String] {
        [configFile, metricsFile, summaryFile, curvesFile, curvesVectorFile, RunCheckpoints.directoryName, modelsDirectory,
         TensorBoardLog.directoryName] + analysisDirectories
    }

    /// Opens `path` for a new run. Refuses an empty path, a path that is a file, and a directory
    /// that holds a run, or files a run would replace, unless `force` is set.
    public static func create(_ path: String, force: Bool) throws -> RunDirectory {
        try checkOut(path)
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        var claim: RunClaim?
        let existed = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if existed {
            if !isDirectory.boolValue {
                throw IMLError("The output path \(path) is a file, not a directory; choose another --out.")
            }
            // A run in progress there is named first: --force must not pull files from under it.
            claim = try RunClaim(url)
            let present = entriesOfARun.filter { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
            if present.contains(configFile), !force {
                throw IMLError("The output directory \(path) already holds a run; continue it with --resume \(path), overwrite it with --force, or choose another --out.")
            }
            if !present.isEmpty, !force {
                let names = present.map { name in isDirectoryEntry(url.appendingPathComponent(name)) ? name + "/" : name }
                throw IMLError("The output directory \(path) holds \(names.joined(separator: ", ")) but no run (no config.json), and a new run would replace \(present.count == 1 ? "it" : "them"); choose another --out, or move \(present.count == 1 ? "it" : "them") away (--force replaces \(present.count == 1 ? "it" : "them")).")
            }
            for name in present {
                do {
                    try FileManager.default.removeItem(at: url.appendingPathComponent(name))
                } catch {
                    throw IMLError("Cannot remove \(url.appendingPathComponent(name).path) of the run that --force replaces (\(RunFileText.reason(error))); check its permissions, or choose another --out.")
                }
            }
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw IMLError("Cannot create the output directory \(path) (\(RunFileText.reason(error))); check the path and its permissions.")
        }
        var directory = RunDirectory(url: url, resumes: false, claim: try claim ?? RunClaim(url))
        directory.created = !existed
        return directory
    }

    /// Refuses an empty --out, which would mean the working directory.
    public static func checkOut(_ path: String, example: String = "results/my-run") throws {
        if path.trimmingCharacters(in: .whitespaces).isEmpty {
            throw IMLError("--out is empty; name the directory for the output files, e.g. --out \(example).")
        }
    }

    static func isDirectoryEntry(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Removes the directory `create` made, for a run that never started (its data did not load):
    /// only when this process created it and it holds nothing but the claim's lock file.
    public func removeIfUnused() {
        guard created, let entries = try? FileManager.default.contentsOfDirectory(atPath: url.path),
              entries.allSatisfy({ $0 == RunClaim.fileName }) else { return }
        try? FileManager.default.removeItem(at: url)
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

    /// True when `create` made the directory (it did not exist before).
    public private(set) var created = false

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

/// The package version and the git commit the program was built from (for config.json and
/// --version; "-dirty" when the build had uncommitted changes, nil outside a git checkout).
public enum Provenance {
    public static let packageVersion = "0.1.0"

    public static var gitCommit: String? { BuildCommit.commit }

    /// What --version prints.
    public static var versionLine: String { packageVersion + " (commit \(gitCommit ?? "unknown"))" }
}
