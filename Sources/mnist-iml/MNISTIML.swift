// mnist-iml: the two-stage implicit meta-learning protocol on MNIST. Declares the vision options
// and wires them to the shared run, sweep and merge commands.

import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLExperiment
import IMLVision
import MNIST

@main
struct MNISTIML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-iml",
        abstract: "Implicit meta-learning on MNIST: tagged definitions, questions, two training stages.",
        version: Provenance.versionLine,
        subcommands: [Run.self, SweepCommand<Run>.self, MergeRuns.self, AnalyzeCommand<Run>.self, Render.self,
                       SubmitCommand<Run>.self, StatusCommand.self, AggregateCommand<Run>.self],
        defaultSubcommand: Run.self)

    static func main() { toolMain(Self.self, run: Run.self) }
}

/// Vision options: how the protocol becomes images, and where MNIST is.
struct VisionOptions: ParsableArguments {
    @Option(help: "reconstruction: this package's design (untagged variable as question); poster: the authors' (3x3 grid, one binary attribute per cell, the asked cell boxed; sets --grid 3, --attributes 9, --classes 2, --handwriting fresh where not given).")
    var design: VisionDesign = .reconstruction
    // Optional, so that the design's own default applies where the command line leaves them out.
    @Option(help: "Digits per side of a variable's grid (G x G digits; default 2, 3 with --design poster).") var grid: Int?
    @Option(help: "fixed: one drawing per variable; fresh: new handwriting per example (default fixed, fresh with --design poster).")
    var handwriting: Handwriting?
    @Option(help: "Fresh handwriting of training examples drawn once, or anew every epoch (every-epoch).") var redraw: Redraw = .once
    @Option(help: "mnist or fashion-mnist.") var dataset: MNISTDatasetKind = .mnist
    @Option(help: "Directory with the idx files (default: $MNIST_DIR, else data/mnist).") var dataDir: String?
    @Option(help: "Average the loss over supervised heads (heads) or over examples (examples).") var lossAverage: LossAverage = .heads
    @Option(help: ArgumentHelp("Output channels of each conv block (3x3 conv, ReLU, 2x2 max-pool), comma-separated: one block per number.",
                               valueName: "c1,c2,..."))
    var convChannels = Self.text(ConvNetMLP.Sizes().channels)
    @Option(help: ArgumentHelp("Widths of the MLP's hidden layers, comma-separated: one layer per number.", valueName: "h1,h2,..."))
    var hidden = Self.text(ConvNetMLP.Sizes().hidden)

    var resolvedGrid: Int { grid ?? design.defaultGrid }

    func modality() throws -> VisionModality {
        var v = VisionConfig()
        v.design = design
        v.grid = resolvedGrid
        v.handwriting = handwriting ?? design.defaultHandwriting
        v.redraw = redraw
        var model = ConvNetMLP.Sizes()
        model.channels = try Self.widths(convChannels, option: "--conv-channels")
        model.hidden = try Self.widths(hidden, option: "--hidden")
        return VisionModality(vision: v, dataset: dataset, dataDir: dataDir, lossAverage: lossAverage, model: model)
    }

    /// The protocol options with the design's attributes and classes where `given` leaves them out
    /// (a conflicting explicit value is refused by the modality's validation).
    func protocolOptions(_ given: ProtocolOptions) -> ProtocolOptions {
        var options = given
        options.attributes = given.attributes ?? design.defaultAttributes(grid: resolvedGrid)
        options.classes = given.classes ?? design.defaultClasses
        return options
    }

    static func text(_ widths: [Int]) -> String { widths.map(String.init).joined(separator: ",") }

    /// "16,32,32" -> [16, 32, 32]; anything else gets one sentence naming `option`.
    static func widths(_ list: String, option: String) throws -> [Int] {
        let items = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if items == [""] { throw IMLError("\(option) needs at least one width, e.g. \(option) 16,32.") }
        return try items.map { item in
            guard let width = Int(item) else {
                throw IMLError("\(option) takes comma-separated whole numbers, e.g. \(option) 16,32, and \"\(item)\" is not one.")
            }
            if width < 1 { throw IMLError("\(option) widths must be at least 1 (got \(width)).") }
            return width
        }
    }
}

enum VisionDefaults: RunDefaults {
    static var epochs1: Int { TrainingConfig().epochs1 }
}

struct Run: RunnableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train stage 1 and stage 2 over several seeds; write metrics, summary and curves.")

    @OptionGroup var givenProtocolOptions: ProtocolOptions
    @OptionGroup var vision: VisionOptions
    @OptionGroup var runOptions: RunOptions<VisionDefaults>

    var protocolOptions: ProtocolOptions { vision.protocolOptions(givenProtocolOptions) }

    func makeModality() throws -> Modality { try vision.modality() }
    func run() throws { try runExperiment(arguments: RunCommand.commandLineArguments()) }

    /// The data directory the run recorded, while it still holds the idx files.
    static func recordedLocation(_ config: RunConfig) -> (arguments: [String], note: String)? {
        guard case .string(let directory)? = config["data_dir"],
              MNISTData.locateFiles(in: URL(fileURLWithPath: directory)).missing.isEmpty else { return nil }
        return (["--data-dir", directory], "Data from \(directory), the directory the run recorded (give --data-dir to use another).")
    }
}

extension Handwriting: ExpressibleByArgument {}
extension Redraw: ExpressibleByArgument {}
extension VisionDesign: ExpressibleByArgument {}
extension LossAverage: ExpressibleByArgument {}
extension MNISTDatasetKind: ExpressibleByArgument {}
