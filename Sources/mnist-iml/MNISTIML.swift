// mnist-iml: the two-stage implicit meta-learning protocol on MNIST. Declares the vision options
// and wires them to the shared run, sweep and merge commands.

import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLRunFiles
import IMLTraining
import IMLProtocol
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

/// Vision options: how the protocol becomes images, and where MNIST is. Each sets the
/// VisionSettings field of its name; one left out keeps the spec's value.
struct VisionOptions: ParsableArguments {
    static let defaults = VisionSettings()

    @Option(help: "reconstruction: this package's design (untagged variable as question); poster: the authors' (3x3 grid, one binary attribute per cell, the asked cell boxed; sets --grid 3, --attributes 9, --classes 2, --handwriting fresh where not given). Default \(defaults.design.rawValue).")
    var design: VisionDesign?
    @Option(help: "Digits per side of a variable's grid (G x G digits; default \(defaults.grid), 3 with --design poster).") var grid: Int?
    @Option(help: "fixed: one drawing per variable; fresh: new handwriting per example (default \(defaults.handwriting.rawValue), fresh with --design poster).")
    var handwriting: Handwriting?
    @Option(help: "Fresh handwriting of training examples drawn once, or anew every epoch (every-epoch; default \(defaults.redraw.rawValue)).") var redraw: Redraw?
    @Option(help: "mnist or fashion-mnist (default \(defaults.dataset.rawValue)).") var dataset: MNISTDatasetKind?
    @Option(help: "Directory with the idx files (default: $MNIST_DIR, else data/mnist).") var dataDir: String?
    @Option(help: "Average the loss over supervised heads (heads) or over examples (examples; default \(defaults.lossAverage.rawValue)).") var lossAverage: LossAverage?
    @Option(help: ArgumentHelp("Output channels of each conv block (3x3 conv, ReLU, 2x2 max-pool), comma-separated: one block per number (default \(text(defaults.convChannels))).",
                               valueName: "c1,c2,..."))
    var convChannels: String?
    @Option(help: ArgumentHelp("Widths of the MLP's hidden layers, comma-separated: one layer per number (default \(text(defaults.hidden))).", valueName: "h1,h2,..."))
    var hidden: String?

    /// The options given, applied to `s`; a design given also sets what it implies where not given.
    func apply(to s: inout VisionSettings, protocolConfig p: inout ProtocolConfig) throws {
        if let design {
            s.design = design
            s.grid = grid ?? design.defaultGrid
            s.handwriting = handwriting ?? design.defaultHandwriting
            if let attributes = design.defaultAttributes(grid: s.grid) { p.attributes = attributes }
            if let classes = design.defaultClasses { p.classes = classes }
        }
        if let grid { s.grid = grid }
        if let handwriting { s.handwriting = handwriting }
        if let redraw { s.redraw = redraw }
        if let dataset { s.dataset = dataset }
        if let lossAverage { s.lossAverage = lossAverage }
        if let convChannels { s.convChannels = try Self.widths(convChannels, option: "--conv-channels") }
        if let hidden { s.hidden = try Self.widths(hidden, option: "--hidden") }
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

/// The protocol's and training's own defaults.
enum VisionDefaults: RunDefaults {}

struct Run: RunnableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train stage 1 and stage 2 over several seeds; write metrics, summary and curves.")

    @OptionGroup var protocolOptions: ProtocolOptions<VisionDefaults>
    @OptionGroup var vision: VisionOptions
    @OptionGroup var runOptions: RunOptions<VisionDefaults>

    static var modalityName: String { "mnist" }
    static var defaultSettings: VisionSettings { VisionSettings() }
    func apply(to settings: inout VisionSettings, protocolConfig: inout ProtocolConfig) throws {
        try vision.apply(to: &settings, protocolConfig: &protocolConfig)
    }
    func modality(_ settings: VisionSettings) throws -> Modality { VisionModality(settings: settings, dataDir: vision.dataDir) }
    func run() throws { try runExperiment() }

    /// The data directory the run recorded, while it still holds the idx files and --data-dir names none.
    func locatingData(as config: RunConfig) -> (command: Run, note: String)? {
        guard vision.dataDir == nil, case .string(let directory)? = config["data_dir"],
              MNISTData.locateFiles(in: URL(fileURLWithPath: directory)).missing.isEmpty else { return nil }
        var command = self
        command.vision.dataDir = directory
        return (command, "Data from \(directory), the directory the run recorded (give --data-dir to use another).")
    }
}

extension Handwriting: ExpressibleByArgument {}
extension Redraw: ExpressibleByArgument {}
extension VisionDesign: ExpressibleByArgument {}
extension LossAverage: ExpressibleByArgument {}
extension MNISTDatasetKind: ExpressibleByArgument {}
