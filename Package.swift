// swift-tools-version:6.0
import PackageDescription

// Linux only (glibc; OpenBLAS, libpng and zlib from the distribution: scripts/install-deps.sh):
// BLASPin restarts the program through /proc/self/exe, RunClaim reads /proc/PID/comm, and CSystem
// reaches glibc's posix_spawn extensions. No other platform is built or tested.
//
// Module graph (arrows point one way, from bytes on disk to a figure):
//   IMLBase (seeded RNG, atomic writes, IMLError) under everything
//   CBLAS, CAtomics, CKernels -> IMLCore (tensors, layers with forward/backward, losses, Adam)
//   IMLProtocol (modality-agnostic protocol and statistics; no tensors, no pixels, no tokens)
//   CPNG -> IMLReport (PNG, SVG, canvas, plots, TensorBoard event files);  CZlib -> MNIST (idx files)
//   IMLProtocol + IMLReport -> IMLRunFiles (the run spec, JSON, config/metrics/summary/checkpoints,
//       run directories, curves, sweep reports, merge)
//   IMLCore + IMLRunFiles -> IMLTraining (Modality/TrainingTask, trainer, seeds, the experiment)
//   IMLTraining -> IMLAnalysis (gradient alignment, probes);  IMLTraining -> IMLCluster (Slurm)
//   IMLAnalysis -> IMLResults (comparing runs, the README's tables from the committed runs)
//   IMLTraining + MNIST -> IMLVision (images, ConvNet + MLP);  IMLTraining -> IMLText (tokens, transformer)
//   IMLText -> IMLSetInclusion (the paper's set-inclusion documents on the text transformer)
//   IMLAnalysis + IMLCluster + ArgumentParser -> IMLCommandLine (the option surface; run, sweep,
//       merge, analyze, submit for any modality)
//   executables (mnist-iml, text-iml, set-iml) only declare their modality's options; iml-compare is
//   IMLResults' tool; iml-bench, idx-fuzz and runfile-fuzz measure and fuzz; IMLTestSupport and
//   CAllocationCounter serve tests and the bench. Each target declares exactly the modules it imports.
let package = Package(
    name: "ImplicitMetaLearning",
    products: [
        .executable(name: "mnist-iml", targets: ["mnist-iml"]),
        .executable(name: "text-iml", targets: ["text-iml"]),
        .executable(name: "set-iml", targets: ["set-iml"]),
        .executable(name: "iml-compare", targets: ["iml-compare"]),
        .executable(name: "iml-bench", targets: ["iml-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries. A missing package produces SwiftPM's install hint.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // The git commit of the build (BuildCommit.commit), for config.json and --version.
        .plugin(name: "BuildCommit", capability: .buildTool()),
        // glibc calls that Swift's Glibc module does not declare (posix_spawn's chdir and closefrom).
        .target(name: "CSystem"),
        .target(name: "IMLBase", dependencies: ["CSystem"], swiftSettings: [.swiftLanguageMode(.v6)], plugins: ["BuildCommit"]),
        // The numeric modules are optimised in every configuration, so `swift run` (a debug build)
        // trains at release speed; -Ounchecked buys the core 6-8% on MNIST runs (docs/performance.md).
        // C11-style atomics for the core's work-sharing pool (Parallel.swift).
        .target(name: "CAtomics"),
        // Element-wise loops compiled for the x86-64 baseline and for AVX2, chosen at run time
        // (GELU's forward); no FMA contraction, so every copy gives the same bits.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        .target(name: "IMLCore", dependencies: ["CAtomics", "CBLAS", "CKernels", "IMLBase"],
                swiftSettings: [.swiftLanguageMode(.v6),
                                .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
                                .unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "MNIST", dependencies: ["CZlib", "IMLBase"],
                swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "IMLProtocol", dependencies: ["IMLBase"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "IMLReport", dependencies: ["CPNG", "IMLBase"], swiftSettings: [.swiftLanguageMode(.v6)]),
        // Run files: the run spec, config.json, metrics, summaries, checkpoints, TensorBoard logs,
        // sweep reports and merge, read and written through the one JSON reader and writer.
        .target(name: "IMLRunFiles", dependencies: ["IMLBase", "IMLProtocol", "IMLReport"], swiftSettings: [.swiftLanguageMode(.v6)]),
        // Training: Modality/TrainingTask, the trainer, seeds, the experiment that writes a run.
        .target(name: "IMLTraining", dependencies: ["IMLBase", "IMLCore", "IMLProtocol", "IMLRunFiles"],
                swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Gradient alignment and linear probes on saved models; optimised in debug builds too
        // (`analyze` loops here).
        .target(name: "IMLAnalysis", dependencies: ["IMLBase", "IMLCore", "IMLProtocol", "IMLReport", "IMLRunFiles", "IMLTraining"],
                swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Slurm: job arrays of a run or sweep, their status and aggregation.
        .target(name: "IMLCluster", dependencies: ["IMLBase", "IMLRunFiles", "IMLTraining"], swiftSettings: [.swiftLanguageMode(.v6)]),
        // Comparing runs and the README's tables from the committed runs (iml-compare).
        .target(name: "IMLResults", dependencies: ["IMLAnalysis", "IMLBase", "IMLProtocol", "IMLReport", "IMLRunFiles", "IMLTraining"], swiftSettings: [.swiftLanguageMode(.v6)]),
        // A modality plugs into the modality-agnostic trainer by conforming to its TrainingTask.
        .target(name: "IMLVision", dependencies: ["IMLBase", "IMLCore", "IMLProtocol", "IMLReport", "IMLRunFiles", "IMLTraining", "MNIST"],
                swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-O"], .when(configuration: .debug))]),

        .target(name: "IMLText", dependencies: ["IMLBase", "IMLCore", "IMLProtocol", "IMLRunFiles", "IMLTraining"],
                swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Set inclusion (the paper's from-scratch task): its own documents on the text modality's TextTask.
        .target(name: "IMLSetInclusion", dependencies: ["IMLBase", "IMLProtocol", "IMLRunFiles", "IMLText", "IMLTraining"],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        // Options and error reporting the command-line tools share.
        .target(name: "IMLCommandLine", dependencies: [
            "IMLAnalysis", "IMLBase", "IMLCluster", "IMLCore", "IMLProtocol", "IMLRunFiles", "IMLTraining",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: [.swiftLanguageMode(.v6)]),

        .executableTarget(name: "mnist-iml", dependencies: [
            "IMLBase", "IMLCommandLine", "IMLProtocol", "IMLRunFiles", "IMLTraining", "IMLVision", "MNIST",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "text-iml", dependencies: [
            "IMLBase", "IMLCommandLine", "IMLProtocol", "IMLRunFiles", "IMLText", "IMLTraining",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "set-iml", dependencies: [
            "IMLBase", "IMLCommandLine", "IMLProtocol", "IMLRunFiles", "IMLSetInclusion", "IMLText", "IMLTraining",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "iml-compare", dependencies: [
            "IMLBase", "IMLCommandLine", "IMLResults", "IMLRunFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Counts the benchmark's heap allocations (malloc interposition); linked into iml-bench only.
        .target(name: "CAllocationCounter"),
        .executableTarget(name: "iml-bench", dependencies: [
            "CAllocationCounter", "IMLBase", "IMLCommandLine", "IMLCore", "IMLProtocol", "IMLRunFiles",
            "IMLText", "IMLTraining", "IMLVision", "MNIST",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // libFuzzer target for the idx reader (scripts/fuzz-idx.sh builds it with
        // -sanitize=fuzzer,address -DFUZZING); a plain build makes a replayer: idx-fuzz FILE...
        .executableTarget(name: "idx-fuzz", dependencies: ["IMLBase", "MNIST"]),
        // The same for the readers of run files (scripts/fuzz-runfiles.sh): runfile-fuzz FILE... replays.
        .executableTarget(name: "runfile-fuzz", dependencies: ["IMLBase", "IMLCluster", "IMLRunFiles", "IMLTraining"]),

        .testTarget(name: "IMLBaseTests", dependencies: ["IMLBase"]),
        // What only tests use, kept out of the shipped core: finite-difference gradient checks and
        // the plain Conv2d and MaxPool2d that the fused ConvPoolReLU is checked against.
        .target(name: "IMLTestSupport", dependencies: ["IMLBase", "IMLCore"]),
        .testTarget(name: "IMLCoreTests", dependencies: ["CKernels", "IMLBase", "IMLCore", "IMLTestSupport"]),
        .testTarget(name: "MNISTTests", dependencies: ["IMLBase", "MNIST"]),
        .testTarget(name: "IMLProtocolTests", dependencies: ["IMLBase", "IMLProtocol"]),
        .testTarget(name: "IMLReportTests", dependencies: ["CPNG", "IMLBase", "IMLReport"]),
        .testTarget(name: "IMLVisionTests", dependencies: ["IMLBase", "IMLCore", "IMLProtocol", "IMLReport", "IMLRunFiles", "IMLTraining", "IMLVision", "MNIST"]),
        .testTarget(name: "IMLTextTests", dependencies: ["IMLBase", "IMLCore", "IMLProtocol", "IMLRunFiles", "IMLText", "IMLTraining"]),
        .testTarget(name: "IMLSetInclusionTests", dependencies: ["IMLBase", "IMLCore", "IMLProtocol", "IMLRunFiles", "IMLSetInclusion", "IMLText", "IMLTraining"]),
        // The layers above the core (run files, training, analysis, cluster, results) through a toy modality.
        .testTarget(name: "IMLRunTests", dependencies: [
            "IMLAnalysis", "IMLBase", "IMLCluster", "IMLCore", "IMLProtocol", "IMLResults", "IMLRunFiles",
            "IMLTraining",
        ]),
        // What the command-line tests share (a scratch directory, the built tools, tiny data and runs).
        .target(name: "ToolTestSupport", dependencies: ["IMLBase", "MNIST"]),
        // text-iml through the built tool: its own options, help, sweeps and thread counts.
        .testTarget(name: "TextCommandLineTests", dependencies: ["IMLBase", "ToolTestSupport"]),
        .testTarget(name: "SetCommandLineTests", dependencies: ["IMLBase", "ToolTestSupport"]),
        // The bad-input catalogue and Ctrl-C/--resume, run through the built mnist-iml.
        .testTarget(name: "MNISTCommandLineTests", dependencies: ["IMLBase", "IMLCore", "IMLRunFiles", "MNIST", "ToolTestSupport"]),
        // submit, status and aggregate through the built mnist-iml against a real local Slurm
        // (scripts/slurm-up.sh, which the tests run themselves).
        .testTarget(name: "SlurmTests", dependencies: ["IMLBase", "MNIST"]),
    ],
    swiftLanguageModes: [.v5]
)
