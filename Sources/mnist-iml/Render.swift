import ArgumentParser
import Foundation
import IMLBase
import IMLCommandLine
import IMLProtocol
import IMLVision

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write example images: a definition and a consistent question per tag, and a contact sheet of every subset.")

    @OptionGroup var givenProtocolOptions: ProtocolOptions<VisionDefaults>
    @OptionGroup var vision: VisionOptions
    @Option(help: "Seed of the protocol instance to draw.") var seed: UInt64 = 0
    @Option(help: "Output directory.") var out: String = "results/mnist-render"
    @Option(help: "Examples per subset on the contact sheet.") var perSubset = 4

    func run() throws {
        try reportingErrors {
            if perSubset < 1 { throw IMLError("--per-subset must be at least 1 (got \(perSubset)).") }
            var settings = VisionSettings(), protocolConfig = ProtocolConfig()
            try vision.apply(to: &settings, protocolConfig: &protocolConfig)
            try givenProtocolOptions.apply(to: &protocolConfig)
            try protocolConfig.validate()
            protocolConfig.seed = seed
            let modality = VisionModality(settings: settings, dataDir: vision.dataDir)
            try modality.validate(protocolConfig)
            let directory = URL(fileURLWithPath: out)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw IMLError("The output path \(out) is a file, not a directory; choose another --out.")
            }
            let renderer = try modality.renderer(protocolConfig)
            var written: [String] = []
            for tag in 1...3 {
                let url = directory.appendingPathComponent("definition-question-tag\(tag).png")
                try ExampleSheets.definitionAndQuestion(renderer: renderer, tag: tag).writePNGAndSVG(to: url)
                written.append(url.path)
            }
            let sheet = directory.appendingPathComponent("contact-sheet.png")
            try ExampleSheets.contactSheet(renderer: renderer, perSubset: perSubset).writePNGAndSVG(to: sheet)
            written.append(sheet.path)
            print(written.joined(separator: "\n"))
        }
    }
}
