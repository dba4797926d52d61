// swift-tools-version:6.0
import PackageDescription

// Module graph (arrows point one way, from bytes on disk to a figure):
//   CBLAS -> IMLCore -> IMLVision / IMLText -> IMLExperiment -> executables
//   CZlib -> MNIST -> IMLVision;  IMLProtocol (pure, modality-agnostic);  CPNG -> IMLReport
let package = Package(
    name: "ImplicitMetaLearning",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mnist-iml", targets: ["mnist-iml"]),
        .executable(name: "iml-bench", targets: ["iml-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries. A missing package produces SwiftPM's install hint.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),

        .target(name: "IMLBase"),
        .target(name: "IMLCore", dependencies: ["IMLBase", "CBLAS"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "MNIST", dependencies: ["IMLBase", "CZlib"]),
        .target(name: "IMLProtocol", dependencies: ["IMLBase"]),
        .target(name: "IMLReport", dependencies: ["IMLBase", "CPNG"]),
        .target(name: "IMLVision", dependencies: ["IMLBase", "IMLCore", "MNIST", "IMLProtocol", "IMLReport"]),
        .target(name: "IMLExperiment", dependencies: ["IMLBase", "IMLCore", "IMLProtocol", "IMLReport"]),

        .executableTarget(name: "mnist-iml", dependencies: [
            "IMLBase", "IMLCore", "MNIST", "IMLProtocol", "IMLVision", "IMLExperiment", "IMLReport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "iml-bench", dependencies: [
            "IMLCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "IMLBaseTests", dependencies: ["IMLBase"]),
        .testTarget(name: "IMLCoreTests", dependencies: ["IMLCore"]),
        .testTarget(name: "MNISTTests", dependencies: ["MNIST"]),
        .testTarget(name: "IMLProtocolTests", dependencies: ["IMLProtocol"]),
        .testTarget(name: "IMLReportTests", dependencies: ["IMLReport", "CPNG"]),
        .testTarget(name: "IMLVisionTests", dependencies: ["IMLVision", "MNIST", "IMLProtocol"]),
        .testTarget(name: "IMLExperimentTests", dependencies: ["IMLExperiment", "IMLVision"]),
    ],
    swiftLanguageModes: [.v5]
)
