// iml-compare: stage-2 curves and final numbers of several runs (either modality) side by side;
// with --readme, the result tables of the README and docs/results.md rendered from the committed
// runs (results/published).

import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLRunFiles
import IMLResults

@main
struct IMLCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iml-compare",
        abstract: "Compare runs of mnist-iml and text-iml: writes comparison.png, comparison.svg and comparison.md.",
        discussion: "iml-compare --readme README.md rewrites the result tables of the README and of every docs/*.md beside it that holds one (docs/results.md) from results/published/ (--check only reports stale ones).",
        version: Provenance.versionLine)

    @Argument(help: "Run directories written by mnist-iml run or text-iml run.") var runs: [String] = []
    @Option(help: "Output directory.") var out: String = "results/comparison"
    @Option(help: ArgumentHelp("Rewrite the results tables of this README, and of the docs/*.md beside it that hold some, from the runs committed under results/published/ (beside it).", valueName: "readme"))
    var readme: String?
    @Flag(help: "With --readme: change nothing, exit 1 when a table differs from the committed runs.") var check = false
    @Option(help: ArgumentHelp("Instead of the comparison, plot the IML effect against this number of each run's config.json (e.g. parameters): against-KEY.png, .svg and .md.", valueName: "key"))
    var against: String?
    @Option(help: ArgumentHelp("Instead of the comparison, show when IML appears: the one run given is a sweep made with sweep --stage2-from SOURCE --set epochs1=...; writes when.png, .svg and .md, with SOURCE's alignment along training (analyze SOURCE --along-training) beside the effect.", valueName: "source"))
    var when: String?

    func run() throws {
        try reportingErrors {
            if let readme {
                let url = URL(fileURLWithPath: readme), root = url.deletingLastPathComponent()
                guard (try? String(contentsOf: url, encoding: .utf8)) != nil else {
                    throw IMLError("Cannot read \(readme); give the path of the README whose results tables to render (the repository's README.md).")
                }
                // The README and every docs/*.md beside it that holds a results block.
                let files = PublishedResults.documents(readme: url)
                let names = files.map { $0 == url ? readme : "docs/" + $0.lastPathComponent }
                let documents = try zip(names, files).map { name, file in (name: name, text: try String(contentsOf: file, encoding: .utf8)) }
                let stale = try PublishedResults.stale(documents: documents, root: root)
                let listed = names.joined(separator: ", ")
                if check {
                    if !stale.isEmpty {
                        throw IMLError("\(stale.count) results table(s) or the index differ from results/published: \(stale.joined(separator: "; ")); run iml-compare --readme \(readme) to render them.")
                    }
                    print("\(listed): every results table matches results/published.")
                } else {
                    let rendered = try documents.map { try PublishedResults.rendered(readme: $0.text, root: root) }
                    for (text, file) in zip(rendered, files) { try AtomicFile.write(text, to: file) }
                    try AtomicFile.write(try PublishedIndex.csv(root: root), to: PublishedIndex.url(root: root))
                    print("\(listed): \(stale.count) results table(s) or index rendered anew (and \(PublishedResults.directory)/\(PublishedIndex.fileName)).")
                }
                return
            }
            try RunDirectory.checkOut(out, example: "results/comparison")
            if let when {
                guard runs.count == 1 else { throw IMLError("iml-compare --when \(when) takes one sweep directory (made with sweep --stage2-from \(when) --set epochs1=...), got \(runs.count).") }
                try WhenReport.write(source: URL(fileURLWithPath: when), sweep: URL(fileURLWithPath: runs[0]), out: URL(fileURLWithPath: out))
                print(try String(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("when.md"), encoding: .utf8))
                return
            }
            if let against {
                guard !runs.isEmpty else { throw IMLError("iml-compare --against needs at least one run directory.") }
                let finished = try runs.map(FinishedRun.init(path:))
                try AgainstReport.write(finished, names: Comparison.uniqueNames(finished), key: against, out: URL(fileURLWithPath: out))
                print(try String(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("against-\(against).md"), encoding: .utf8))
                return
            }
            try Comparison.compare(runs, out: out)
            print(try String(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("comparison.md"), encoding: .utf8))
        }
    }
}
