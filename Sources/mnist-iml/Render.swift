import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLProtocol
import IMLVision
import MNIST

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write example images: a definition and a consistent question per tag, and a contact sheet of every subset.")

    @OptionGroup var data: DataOptions
    @Option(help: "Seed of the protocol instance to draw.") var seed: UInt64 = 0
    @Option(help: "Output directory.") var out: String = "results/mnist-render"
    @Option(help: "Examples per subset on the contact sheet.") var perSubset = 4

    func run() throws {
        try reportingErrors {
            if perSubset < 1 { throw IMLError("--per-subset must be at least 1 (got \(perSubset)).") }
            let (protocolConfig, vision) = try data.validate(seed: seed)
            let directory = URL(fileURLWithPath: out)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw IMLError("The output path \(out) is a file, not a directory; choose another --out.")
            }
            let mnist = try data.loadData()
            let instance = try ProtocolInstance(config: protocolConfig, variableSpec: vision.variableSpec,
                                                tagSpec: vision.tagSpec, forbiddenTags: [vision.blankTag])
            let renderer = try VisionRenderer(instance: instance, data: mnist, config: vision)
            var written: [String] = []
            for tag in 1...3 {
                let url = directory.appendingPathComponent("definition-question-tag\(tag).png")
                try ExampleSheets.definitionAndQuestion(renderer: renderer, tag: tag).writePNG(to: url)
                written.append(url.path)
            }
            let sheet = directory.appendingPathComponent("contact-sheet.png")
            try ExampleSheets.contactSheet(renderer: renderer, perSubset: perSubset).writePNG(to: sheet)
            written.append(sheet.path)
            print(written.joined(separator: "\n"))
        }
    }
}
