// Talking to Slurm through its own commands (sbatch, scancel, scontrol), as a user would: no
// library, no daemon of our own. Every call is bounded in time and returns what Slurm printed,
// so its messages reach the user unchanged. The facts relied on here are measured on a real
// cluster in docs/slurm-local.md.

import Foundation
import IMLBase

public enum Slurm {
    /// What a command printed and how it ended.
    public struct Output {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// stderr's lines (else stdout's), trimmed and joined with "; ", for one-line messages.
        public var message: String {
            let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? stdout : stderr
            let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return lines.isEmpty ? "no message" : lines.joined(separator: "; ")
        }
    }

    /// The environment the Slurm commands see (tests point PATH or SLURM_CONF elsewhere).
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The absolute path of `name` in $PATH, or nil when it is not installed there.
    public static func which(_ name: String) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name).path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }

    /// Runs `executable` with `arguments`, waits at most `timeout` seconds (then kills it) and
    /// returns what it printed. Throws only when it cannot be started.
    public static func run(_ executable: String, _ arguments: [String], timeout: Double = 60) throws -> Output {
        let outcome = try ChildProcess.run(executable, arguments, environment: environment, timeout: timeout)
        var stderr = outcome.stderr
        if outcome.timedOut { stderr += "\n\(URL(fileURLWithPath: executable).lastPathComponent) did not answer within \(Int(timeout)) s" }
        return Output(status: outcome.timedOut ? 124 : outcome.status, stdout: outcome.stdout, stderr: stderr)
    }

    /// Refuses, in one sentence naming what is missing, when this machine cannot submit jobs:
    /// sbatch is not installed, or the controller does not answer `scontrol ping`.
    /// `local` is the command that runs the same thing without Slurm.
    public static func checkSubmission(local: String) throws {
        guard which("sbatch") != nil else {
            throw IMLError("sbatch is not installed here (not found in PATH), so nothing can be submitted to Slurm; submit from a machine of the cluster, or run locally instead with: \(local)")
        }
        guard let scontrol = which("scontrol") else { return }
        let ping = try run(scontrol, ["ping"], timeout: 30)
        if ping.status != 0 {
            let said = ping.stdout.split(separator: "\n").first.map(String.init) ?? ping.message
            throw IMLError("The Slurm controller does not answer (scontrol ping: \(said)), so nothing can be submitted; start slurmctld or ask the cluster's administrators, or run locally instead with: \(local)")
        }
    }

    /// Submits with `sbatch --parsable ARGUMENTS` and returns the job id. A refusal throws
    /// SubmissionRefused with Slurm's own message.
    public static func sbatch(_ arguments: [String]) throws -> Int {
        guard let sbatch = which("sbatch") else { throw SubmissionRefused(message: "sbatch is no longer found in PATH") }
        let output = try run(sbatch, ["--parsable"] + arguments)
        // --parsable prints "id" or "id;cluster".
        let first = output.stdout.split(separator: "\n").first.map(String.init) ?? ""
        guard output.status == 0, let id = Int(first.split(separator: ";").first.map(String.init) ?? "") else {
            throw SubmissionRefused(message: output.message)
        }
        return id
    }

    /// sbatch refused a submission; `message` is what it printed.
    public struct SubmissionRefused: Error { public var message: String }

    /// Cancels jobs (best effort: returns whether scancel succeeded and what it said).
    @discardableResult
    public static func scancel(_ jobs: [Int]) -> Output? {
        guard !jobs.isEmpty, let scancel = which("scancel") else { return nil }
        return try? run(scancel, jobs.map(String.init))
    }

    /// One record of `scontrol show job -o`: Key=Value fields.
    public struct JobRecord {
        public var fields: [String: String]
        public subscript(_ key: String) -> String? { fields[key] }
        /// The array task ids this record stands for (a pending record may stand for several,
        /// "ArrayTaskId=1-2%1"); nil for a job that is not an array task.
        public var arrayTasks: [Int]? { fields["ArrayTaskId"].flatMap(Slurm.taskIDs) }
    }

    /// What Slurm says about a job (every task of an array): its records; an empty list when the
    /// controller no longer knows the job (finished longer than MinJobAge ago); nil when it
    /// cannot be asked (no scontrol, no answer).
    public static func showJob(_ id: Int) -> [JobRecord]? {
        guard let scontrol = which("scontrol"), let output = try? run(scontrol, ["show", "job", "-o", String(id)], timeout: 30) else { return nil }
        if output.status != 0 {
            return output.stderr.contains("Invalid job id") ? [] : nil
        }
        return output.stdout.split(separator: "\n").filter { $0.contains("JobId=") }.map { JobRecord(fields: parseRecord($0)) }
    }

    /// "Key=Value Key=Value ..." into a dictionary; a word without "=" (a value with spaces)
    /// belongs to the value before it.
    public static func parseRecord(_ line: Substring) -> [String: String] {
        var fields: [String: String] = [:]
        var last: String?
        for word in line.split(separator: " ", omittingEmptySubsequences: true) {
            if let equals = word.firstIndex(of: "="), equals != word.startIndex {
                let key = String(word[..<equals])
                fields[key] = String(word[word.index(after: equals)...])
                last = key
            } else if let key = last {
                fields[key, default: ""] += " " + word
            }
        }
        return fields
    }

    static let maximumTasks = 4_000_001

    /// "3", "0-2%2", "1,4-5" into task ids; nil when it is not a task list.
    public static func taskIDs(_ text: String) -> [Int]? {
        let list = text.split(separator: "%").first.map(String.init) ?? text
        var ids: [Int] = []
        for part in list.split(separator: ",") {
            let bounds = part.split(separator: "-")
            if bounds.count == 1, let n = Int(bounds[0]) {
                ids.append(n)
            } else if bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]), a >= 0, a <= b,
                      b - a < maximumTasks - ids.count {
                // Bounded: a damaged record must not ask for billions of ids (Slurm's own limit,
                // MaxArraySize, is at most 4,000,001).
                ids.append(contentsOf: a...b)
            } else {
                return nil
            }
        }
        return ids.isEmpty ? nil : ids
    }

    /// Task ids in sbatch's --array syntax, ranges folded: [0, 1, 2, 5] -> "0-2,5".
    public static func arraySpec(_ ids: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = Array(Set(ids)).sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// A job's state in a few words: "RUNNING on vm", "PENDING (Dependency)",
    /// "FAILED (exit 1)", "COMPLETED", with the number of restarts when there were any.
    public static func describe(_ record: JobRecord) -> String {
        let state = record["JobState"] ?? "?"
        var text = state
        let reason = record["Reason"] ?? "None"
        switch state {
        case "RUNNING", "COMPLETING":
            if let node = record["NodeList"], node != "(null)" { text += " on \(node)" }
        case "PENDING":
            if reason != "None" { text += " (\(reason))" }
        case "COMPLETED":
            break
        default:
            var details: [String] = []
            if let exit = record["ExitCode"] {
                let parts = exit.split(separator: ":")
                if parts.count == 2, parts[1] != "0" { details.append("signal \(parts[1])") } else if let code = parts.first, code != "0" { details.append("exit \(code)") }
            }
            if reason != "None" && reason != "NonZeroExitCode" { details.append(reason) }
            if !details.isEmpty { text += " (" + details.joined(separator: ", ") + ")" }
        }
        if let restarts = record["Restarts"], let n = Int(restarts), n > 0 { text += ", restarted \(n)x" }
        return text
    }

    /// States in which a job or task may still run.
    public static let activeStates: Set<String> = ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD",
                                                   "REQUEUE_FED", "RESIZING", "SUSPENDED", "STAGE_OUT", "SIGNALING", "STOPPED", "RESV_DEL_HOLD"]
}
