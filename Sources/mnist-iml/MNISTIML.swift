// mnist-iml: the two-stage implicit meta-learning protocol on MNIST (argument parsing and wiring).

import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLExperiment
import IMLProtocol
import IMLVision
import MNIST

@main
struct MNISTIML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-iml",
        abstract: "Implicit meta-learning on MNIST: tagged definitions, questions, two training stages.",
        subcommands: [Run.self, Sweep.self, MergeRuns.self, Render.self],
        defaultSubcommand: Run.self)
}

/// Options shared by every subcommand that builds the protocol and its images.
struct DataOptions: ParsableArguments {
    @Option(help: "Entities (variables) per seed.") var entities = 1000
    @Option(help: "Digits per side of a variable's grid (G x G digits).") var grid = 2
    @Option(help: "Attributes per entity (output heads).") var attributes = 6
    @Option(help: "Classes per attribute (chance = 1/classes).") var classes = 10
    @Option(help: "Tag/consistency correlation in stage 1, in [0, 1].") var alpha = 1.0
    @Option(help: "2: the two-stage protocol; 1: one stage (--epochs1 epochs) on both stages' training sets, evaluating every subset.") var stages = 2
    @Option(help: "fixed: one drawing per variable; fresh: new handwriting per example.") var handwriting: Handwriting = .fixed
    @Option(help: "mnist or fashion-mnist.") var dataset: MNISTDatasetKind = .mnist
    @Option(help: "Directory with the idx files (default: $MNIST_DIR, else data/mnist).") var dataDir: String?
    @Option(help: "Average the loss over supervised heads (heads) or over examples (examples).") var lossAverage: LossAverage = .heads

    func protocolConfig(seed: UInt64) -> ProtocolConfig {
        var c = ProtocolConfig()
        c.entities = entities
        c.attributes = attributes
        c.classes = classes
        c.alpha = alpha
        c.stages = stages
        c.seed = seed
        return c
    }

    var visionConfig: VisionConfig {
        var v = VisionConfig()
        v.grid = grid
        v.handwriting = handwriting
        return v
    }

    /// Checks every setting before any data is loaded, so a typo costs no waiting.
    func validate(seed: UInt64) throws -> (ProtocolConfig, VisionConfig) {
        let p = protocolConfig(seed: seed), v = visionConfig
        try p.validate()
        try v.validate()
        if let distinct = v.variableSpec.distinctCount, distinct < entities {
            throw IMLError("--grid \(grid) draws only \(distinct) distinct variables (10^\(grid * grid) digit grids), but --entities \(entities) needs one per entity; use a larger --grid or fewer --entities.")
        }
        _ = try ProtocolInstance(config: p, variableSpec: v.variableSpec, tagSpec: v.tagSpec, forbiddenTags: [v.blankTag])
        return (p, v)
    }

    func loadData() throws -> MNISTData {
        try MNISTData.load(kind: dataset, dataDir: dataDir)
    }
}

extension Handwriting: ExpressibleByArgument {}
extension LossAverage: ExpressibleByArgument {}
extension MNISTDatasetKind: ExpressibleByArgument {}

