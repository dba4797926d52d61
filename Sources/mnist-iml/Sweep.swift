import ArgumentParser
import IMLCommandLine

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: SweepCommand.abstract,
                                                    discussion: "Example: mnist-iml sweep --alpha 0.5,0.75,0.9,1 --seeds 5")
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp(stringLiteral: SweepCommand.argumentHelp))
    var arguments: [String] = []

    func run() throws {
        try reportingErrors {
            try SweepCommand.execute(arguments: arguments, modality: "mnist") { args in
                var run = try Run.parse(args)
                try run.run()
            }
        }
    }
}
