import IMLCore
import XCTest

/// `--blas-core auto`: OpenBLAS's pick unless it is a fallback below what the processor's features
/// allow. The decision is pure, so any processor can be given to it.
final class BLASKernelTests: XCTestCase {
    let avx2: CPUFeatures = [.avx, .avx2, .fma]
    var avx512: CPUFeatures { avx2.union(.avx512) }
    var avx512bf16: CPUFeatures { avx512.union(.avx512bf16) }

    func testAFallbackPickIsReplacedByTheKernelTheFeaturesAllow() {
        // The Intel Xeon model 207 that Debian's OpenBLAS 0.3.21 does not know: Prescott alone.
        XCTAssertEqual(BLASKernel.autoChoice(openBLASPick: "Prescott", features: avx512bf16)?.kernel, "Cooperlake")
        XCTAssertEqual(BLASKernel.autoChoice(openBLASPick: "Prescott", features: avx512bf16)?.because, "AVX512-BF16")
        XCTAssertEqual(BLASKernel.autoChoice(openBLASPick: "Nehalem", features: avx512)?.kernel, "SkylakeX")
        XCTAssertEqual(BLASKernel.autoChoice(openBLASPick: "Sandybridge", features: avx2)?.kernel, "Haswell")
        XCTAssertEqual(BLASKernel.autoChoice(openBLASPick: "CORE2", features: avx2)?.kernel, "Haswell", "names compare case-insensitively")
        XCTAssertEqual(BLASKernel.autoChoice(openBLASPick: "Haswell", features: avx512bf16)?.kernel, "Cooperlake")
        XCTAssertEqual(BLASKernel.autoChoice(openBLASPick: "Prescott", features: [.avx])?.kernel, "Sandybridge")
    }

    func testAPickAsGoodAsTheFeaturesIsKept() {
        XCTAssertNil(BLASKernel.autoChoice(openBLASPick: "Cooperlake", features: avx512bf16))
        XCTAssertNil(BLASKernel.autoChoice(openBLASPick: "SkylakeX", features: avx512))
        XCTAssertNil(BLASKernel.autoChoice(openBLASPick: "Zen", features: avx2))
        XCTAssertNil(BLASKernel.autoChoice(openBLASPick: "Haswell", features: avx2))
        // Better than the features (they may be incomplete, e.g. the OS saves no AVX-512 state).
        XCTAssertNil(BLASKernel.autoChoice(openBLASPick: "SkylakeX", features: avx2))
        // Without AVX there is nothing to choose; an unknown name (a newer OpenBLAS) is left alone.
        XCTAssertNil(BLASKernel.autoChoice(openBLASPick: "Prescott", features: []))
        XCTAssertNil(BLASKernel.autoChoice(openBLASPick: "FutureLake", features: avx512bf16))
    }

    func testAVX512WithoutEveryPartIsNotEnoughForSkylakeX() {
        XCTAssertEqual(BLASKernel.best(for: avx2.union(.avx512f))?.kernel, "Haswell")
        XCTAssertEqual(BLASKernel.best(for: avx2.union([.avx512f, .avx512bw, .avx512vl, .avx512dq]))?.kernel, "Haswell")
        XCTAssertEqual(BLASKernel.best(for: avx2.union(.avx512bf16))?.kernel, "Haswell")
        XCTAssertEqual(BLASKernel.best(for: [.avx, .avx2])?.kernel, "Sandybridge", "AVX2 without FMA")
        XCTAssertNil(BLASKernel.best(for: [.avx2, .fma]), "no AVX bit: the OS saves no YMM state")
    }

    func testTheChoiceTravelsThroughTheEnvironmentUnchanged() {
        let choices = [
            BLASKernelChoice(kernel: "Cooperlake", openBLASPick: "Prescott", reason: .features, chosen: "Cooperlake", because: "AVX512-BF16"),
            BLASKernelChoice(kernel: "Haswell", openBLASPick: nil, reason: .pinned),
            BLASKernelChoice(kernel: "Prescott", openBLASPick: "Prescott", reason: .featuresNotTaken, chosen: "SkylakeX", because: "AVX-512 F/CD/BW/DQ/VL"),
        ]
        for choice in choices {
            XCTAssertEqual(BLASKernelChoice(environmentValue: choice.environmentValue, kernel: choice.kernel), choice)
        }
        XCTAssertNil(BLASKernelChoice(environmentValue: "fast|Prescott", kernel: "Haswell"))
        XCTAssertNil(BLASKernelChoice(environmentValue: "sometimes|||", kernel: "Haswell"))
        XCTAssertEqual(choices[0].line, "BLAS kernel: Cooperlake, chosen from the processor's features (AVX512-BF16); OpenBLAS alone picks Prescott, a fallback")
        XCTAssertEqual(choices[1].why, "pinned by --blas-core (OpenBLAS alone picks unknown)")
    }

    func testThisProcessorsFeaturesAreConsistent() {
        let host = CPUFeatures.host
        // Each tier implies the one below it on every x86-64 processor that has it.
        if host.contains(.avx512f) { XCTAssertTrue(host.contains(.avx2), host.description) }
        if host.contains(.avx2) { XCTAssertTrue(host.contains(.avx), host.description) }
        if host.contains(.avx512bf16) { XCTAssertTrue(host.contains(.avx512f), host.description) }
    }
}
