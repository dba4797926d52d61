// results/published/index.csv: one row per published run (a sweep's runs each have their own),
// for pandas, R or a spreadsheet: its key settings and the arguments that made it, the IML effect
// (mean, 95% half-width, per seed), the final mean EM of every subset in each stage, the kernel and
// the commit. Made from the committed config.json and summary.json by `iml-compare --readme`
// beside the README's tables, and checked with them (`--check`, PublishedResultsTests).

import Foundation
import IMLBase
import IMLRunFiles

public enum PublishedIndex {
    public static let fileName = "index.csv"

    /// The settings every run records, in this order (a run without one leaves its cell empty).
    static let settings = ["modality", "stages", "entities", "attributes", "classes", "alpha", "epochs1", "epochs2",
                           "batch_size", "lr", "tag1_fraction", "tag2_fraction", "question_only_fraction"]

    /// Every published run under `root`/results/published, by its path below that directory.
    static func runs(root: URL) throws -> [(name: String, run: PublishedRun)] {
        let base = root.appendingPathComponent(PublishedResults.directory)
        let names = (FileManager.default.enumerator(atPath: base.path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix("/" + RunDirectory.configFile) }
            .map { String($0.dropLast(RunDirectory.configFile.count + 1)) }
            .sorted()
        return try names.map { ($0, try PublishedRun(directory: base.appendingPathComponent($0))) }
    }

    /// The text of index.csv for the runs under `root`.
    public static func csv(root: URL) throws -> String {
        let runs = try runs(root: root)
        func subsets(_ stage: Int) -> [String] {
            var seen: [String] = []
            for (_, run) in runs { for (subset, _) in run.summary.stages[stage] ?? [] where !seen.contains(subset) { seen.append(subset) } }
            return seen
        }
        let stage1 = subsets(1), stage2 = subsets(2)
        var header = ["run", "seeds"] + settings + ["arguments", "iml_effect_mean", "iml_effect_ci95", "iml_effect_per_seed"]
        header += stage1.map { "stage1_\($0)_em" } + stage2.map { "stage2_\($0)_em" } + ["blas_core", "git_commit"]
        var rows = [header]
        for (name, run) in runs {
            let config = run.config
            func cell(_ key: String) -> String {
                switch config[key] {
                case .string(let s)?: return s
                case .int(let i)?: return String(i)
                case .number(let x)?: return "\(x)"
                case .array(let items)?: return items.map { $0.stringValue ?? $0.serialized() }.joined(separator: ";")
                default: return ""
                }
            }
            let effect = run.summary.imlEffect
            func em(_ stage: Int, _ subset: String) -> String {
                (run.summary.stages[stage]?.first { $0.0 == subset }?.1.mean).map { "\($0)" } ?? ""
            }
            var row = [name, String(run.summary.seeds.count)] + settings.map(cell)
            row.append((config["arguments"]?.stringArray ?? []).joined(separator: " "))
            row += [effect.map { "\($0.mean)" } ?? "", effect.map { "\($0.ci95)" } ?? "",
                    effect.map { $0.perSeed.map { "\($0)" }.joined(separator: ";") } ?? ""]
            row += stage1.map { em(1, $0) } + stage2.map { em(2, $0) }
            row += [cell("blas_core"), cell("git_commit")]
            rows.append(row)
        }
        return rows.map { $0.map(quoted).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func url(root: URL) -> URL {
        root.appendingPathComponent(PublishedResults.directory).appendingPathComponent(fileName)
    }

    /// True when the committed index.csv is what the committed runs give.
    public static func isCurrent(root: URL) throws -> Bool {
        (try? String(contentsOf: url(root: root), encoding: .utf8)) == (try csv(root: root))
    }
}
