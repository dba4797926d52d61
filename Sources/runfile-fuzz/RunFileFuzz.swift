// runfile-fuzz: feeds arbitrary bytes to every reader of run files: the JSON reader, the
// metrics-line parser and the metrics.jsonl checks, config.json's reader, summary.json's check,
// and the checkpoint reader (header, records, payload; once with its checksum checked and once
// without, so the payload reader sees any bytes) with the checks a resumed run applies to it.
// Every input must be answered with a value or an IMLError; a trap, sanitizer report or hang is
// a bug.
//
// Built two ways from this one file:
//   swift build                                    -> a replayer: `runfile-fuzz FILE...` runs each
//                                                     file once and prints what the readers said;
//                                                     `runfile-fuzz --seed-corpus DIR` writes the
//                                                     seed corpus
//   scripts/fuzz-runfiles.sh SECONDS (-DFUZZING, -sanitize=fuzzer,address)
//                                                  -> the libFuzzer binary (LLVMFuzzerRunDriver)

import Foundation
import IMLBase
import IMLRunFiles
import IMLTraining
import IMLCluster

func outcome(_ body: () throws -> String) -> String {
    do { return try body() } catch let error as IMLError { return "refused: \(error.message)" } catch {
        return "refused: \(error)"
    }
}

/// Where the submission reader finds its input (it reads a directory).
let submissionDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("runfile-fuzz-\(getpid())")
let submissionFile: URL = {
    let folder = submissionDirectory.appendingPathComponent(SlurmSubmission.folder)
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent(SlurmSubmission.recordFile)
}()

/// One input through every reader; returns a short description of each outcome.
@discardableResult
func readRunFiles(_ input: [UInt8]) -> String {
    let data = Data(input)
    var outcomes: [String] = []
    outcomes.append(outcome { "json: " + (try JSON.read(input)).kindDescription })
    outcomes.append(outcome {
        let config = try RunConfig(data: data, path: "config.json")
        return "config of seeds \(config.seeds)"
    })
    let text = String(decoding: input, as: UTF8.self)
    if let firstLine = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first {
        outcomes.append(outcome { "record: \(try MetricRecord(line: firstLine).json.serialized())" })
    }
    outcomes.append(outcome {
        let lines = try RunRecords.parse(data, path: "metrics.jsonl", fix: "fix")
        try RunRecords.check(lines, seeds: [0, 1], stages: [1, 2], epochs: { $0 == 1 ? 2 : 1 }, configName: "config.json") { IMLError($0) }
        let summary = RunSummary(modality: "toy", records: lines.map(\.record), wallSeconds: 0)
        return "metrics of \(lines.count) records, summary of \(summary.seeds.count) seeds"
    })
    outcomes.append(outcome {
        let computed = RunSummary(modality: "toy", records: FuzzCorpus.records(seed: 0), wallSeconds: 0)
        return "summary with \(try SummaryCheck.check(data, path: "summary.json", computed: computed, fix: "fix")) s"
    })
    // Readers other commands added: a published run's summary.json, a Slurm submission record.
    outcomes.append(outcome { "published summary of \(try RunSummary(summaryJSON: data, file: "summary.json").seeds.count) seeds" })
    outcomes.append(outcome {
        try data.write(to: submissionFile)
        let submission = try SlurmSubmission(reading: submissionDirectory)
        return "submission of \(submission.points.count) points, \(submission.jobs.count) job entries"
    })
    for verify in [true, false] {
        outcomes.append(outcome {
            let state = try TrainingState(checkpoint: data, name: "seed-0.checkpoint", verifyChecksum: verify)
            try FuzzCorpus.checkAsResumed(state)
            return "checkpoint at \(state.position)"
        })
    }
    return outcomes.joined(separator: "\n  ")
}

/// Valid run files of a tiny two-stage run (2 + 1 epochs), the seed corpus.
enum FuzzCorpus {
    static let tensors: [(String, Int)] = [("parameter.0.weight", 6), ("adam.m.0", 6)]
    static let trainingCount = 5

    static func records(seed: UInt64) -> [MetricRecord] {
        var out: [MetricRecord] = []
        for (stage, epochs, subsets) in [(1, 2, ["qd1consis", "qd2incons"]), (2, 1, ["d1consis", "d2consis"])] {
            for epoch in 0...epochs {
                if epoch > 0 { out.append(.trainLoss(seed: seed, stage: stage, epoch: epoch, loss: 2.25 / Double(epoch))) }
                for (i, s) in subsets.enumerated() {
                    out.append(.exactMatch(seed: seed, stage: stage, epoch: epoch, subset: s, em: Double(epoch + i) / 8, n: 8))
                }
            }
        }
        return out
    }

    static func checkpoint(finished: Bool) -> Data {
        let all = records(seed: 0)
        let state = TrainingState(seed: 0, stage: finished ? 2 : 1, epochsDone: finished ? 1 : 1, batchStart: finished ? 0 : 2,
                                  lossSum: 1.5, steps: 1, examplesDone: 7, order: finished ? [] : [3, 1, 4, 0, 2],
                                  shuffler: SeededRandom(seed: 7), finished: finished,
                                  records: finished ? all : Array(all.prefix(5)),
                                  tensors: finished ? [] : tensors.map { ($0.0, (0..<$0.1).map { Float($0) / 3 }) })
        return state.serialized()
    }

    /// The checks `--resume` applies to a checkpoint it read.
    static func checkAsResumed(_ state: TrainingState) throws {
        var training = TrainingConfig()
        training.epochs1 = 2; training.epochs2 = 1
        try Experiment.checkCheckpoint(state, path: "seed-0.checkpoint", stages: [1, 2], training: training,
                                       tensors: tensors, trainedIndices: { _, _ in Array(0..<trainingCount) })
    }

    /// A Slurm submission record of a two-value sweep (as `submit` writes it).
    static let submission = JSON.object([
        ("format", .string("iml slurm submission 1")), ("tool", .string("mnist-iml")), ("tool_path", .string("/usr/bin/mnist-iml")),
        ("working_directory", .string("/tmp")), ("created", .string("2026-11-27T12:00:00Z")),
        ("sweep", .object([("parameter", .string("alpha")), ("arguments", .array([.string("--seeds"), .string("2")]))])),
        ("points", .array([.object([("value", .string("0.5")), ("path", .string("alpha=0.5")), ("arguments", .array([.string("--alpha"), .string("0.5")]))]),
                           .object([("value", .string("1")), ("path", .string("alpha=1")), ("arguments", .array([.string("--alpha"), .string("1")]))])])),
        ("seeds", .array([.int(0), .int(1)])), ("execution_arguments", .array([.string("--data-dir"), .string("/data")])),
        ("sbatch", .object([("partition", .string("debug")), ("cpus_per_task", .int(1)), ("array_throttle", .int(2))])),
        ("jobs", .array([.object([("array_job", .int(41)), ("tasks", .string("0-3%2")), ("aggregate_job", .int(42)),
                                  ("submitted", .string("2026-11-27T12:00:01Z"))])])),
    ]).serialized(pretty: true) + "\n"

    static func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let metrics = (records(seed: 0) + records(seed: 1)).map { $0.json.serialized() + "\n" }.joined()
        let summary = RunSummary(modality: "toy", records: records(seed: 0), wallSeconds: 1.5).json.serialized(pretty: true) + "\n"
        let config = JSON.object([
            ("modality", .string("toy")), ("title", .string("Toy")), ("arguments", .array([.string("--seeds"), .string("2")])),
            ("threads", .int(1)), ("seeds", .array([.int(0), .int(1)])), ("epochs1", .int(2)), ("epochs2", .int(1)),
            ("batch_size", .int(4)), ("lr", .number(0.001)), ("stages", .array([.int(1), .int(2)])), ("entities", .int(10)),
            ("alpha", .number(1)), ("tag1_fraction", .number(0.3)), ("seed_stage2", .null), ("chance", .number(0.1)),
            ("compared_settings", .array([.string("grid")])), ("nested", .object([("a", .array([.bool(true), .string("\u{e9}\\n")]))])),
        ]).serialized(pretty: true) + "\n"
        let files: [(String, Data)] = [
            ("config.json", Data(config.utf8)), ("metrics.jsonl", Data(metrics.utf8)), ("summary.json", Data(summary.utf8)),
            ("metrics-line", Data(records(seed: 0)[1].json.serialized().utf8)),
            ("seed-0-unfinished.checkpoint", checkpoint(finished: false)), ("seed-0-finished.checkpoint", checkpoint(finished: true)),
            ("submission.json", Data(submission.utf8)),
        ]
        for (name, data) in files { try data.write(to: directory.appendingPathComponent(name)) }
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif

@main
enum RunFileFuzz {
    static func main() {
        atexit { try? FileManager.default.removeItem(at: submissionDirectory) }
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            readRunFiles(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
        #else
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.count == 2, arguments[0] == "--seed-corpus" {
            do { try FuzzCorpus.write(to: URL(fileURLWithPath: arguments[1])) } catch {
                FileHandle.standardError.write(Data("error: cannot write the seed corpus to \(arguments[1]): \(error)\n".utf8))
                exit(1)
            }
            return
        }
        if arguments.isEmpty {
            FileHandle.standardError.write(Data("usage: runfile-fuzz FILE...  (replays inputs; runfile-fuzz --seed-corpus DIR writes the seed corpus; scripts/fuzz-runfiles.sh SECONDS runs the fuzzer)\n".utf8))
            exit(2)
        }
        while !arguments.isEmpty {
            let path = arguments.removeFirst()
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("error: cannot read \(path); check the path.\n".utf8))
                exit(1)
            }
            print("\(path):\n  \(readRunFiles([UInt8](data)))")
        }
        #endif
    }
}
