// mnist-iml: the two-stage implicit meta-learning protocol on MNIST. Declares the vision options
// and wires them to the shared run, sweep and merge commands.

import ArgumentParser
import Foundation
import IMLCommandLine
import IMLExperiment
import IMLVision
import MNIST

@main
struct MNISTIML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-iml",
        abstract: "Implicit meta-learning on MNIST: tagged definitions, questions, two training stages.",
        subcommands: [Run.self, SweepCommand<Run>.self, MergeRuns.self, AnalyzeCommand<Run>.self, Render.self,
                       SubmitCommand<Run>.self, StatusCommand.self, AggregateCommand<Run>.self],
        defaultSubcommand: Run.self)

    static func main() { toolMain(Self.self, run: Run.self) }
}

/// Vision options: how the protocol becomes images, and where MNIST is.
struct VisionOptions: ParsableArguments {
    @Option(help: "Digits per side of a variable's grid (G x G digits).") var grid = VisionConfig().grid
    @Option(help: "fixed: one drawing per variable; fresh: new handwriting per example.") var handwriting = VisionConfig().handwriting
    @Option(help: "mnist or fashion-mnist.") var dataset: MNISTDatasetKind = .mnist
    @Option(help: "Directory with the idx files (default: $MNIST_DIR, else data/mnist).") var dataDir: String?
    @Option(help: "Average the loss over supervised heads (heads) or over examples (examples).") var lossAverage: LossAverage = .heads

    var modality: VisionModality {
        var v = VisionConfig()
        v.grid = grid
        v.handwriting = handwriting
        return VisionModality(vision: v, dataset: dataset, dataDir: dataDir, lossAverage: lossAverage)
    }
}

enum VisionDefaults: RunDefaults {
    static var epochs1: Int { TrainingConfig().epochs1 }
}

struct Run: RunnableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train stage 1 and stage 2 over several seeds; write metrics, summary and curves.")

    @OptionGroup var protocolOptions: ProtocolOptions
    @OptionGroup var vision: VisionOptions
    @OptionGroup var runOptions: RunOptions<VisionDefaults>

    func makeModality() throws -> Modality { vision.modality }
    func run() throws { try runExperiment(arguments: RunCommand.commandLineArguments()) }
}

extension Handwriting: ExpressibleByArgument {}
extension LossAverage: ExpressibleByArgument {}
extension MNISTDatasetKind: ExpressibleByArgument {}
