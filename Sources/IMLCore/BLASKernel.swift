// Which OpenBLAS kernel a process runs, and why. Debian's OpenBLAS picks its kernel from the
// processor when it loads, but falls back to an old one (Prescott, SSE3) on processors it does
// not know, such as recent Intel Xeons: 3.4x slower. So `--blas-core auto`, the default, keeps
// OpenBLAS's pick unless it is below what the processor's features allow, and then names the
// kernel those features allow (the tools restart themselves with OPENBLAS_CORETYPE set; see
// BLASPin). The decision is pure, so tests can give it any processor.

import CKernels
import Foundation

/// The vector features of a processor that decide which OpenBLAS kernels it can run.
public struct CPUFeatures: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let avx = CPUFeatures(rawValue: UInt32(IML_CPU_AVX))
    public static let avx2 = CPUFeatures(rawValue: UInt32(IML_CPU_AVX2))
    public static let fma = CPUFeatures(rawValue: UInt32(IML_CPU_FMA))
    public static let avx512f = CPUFeatures(rawValue: UInt32(IML_CPU_AVX512F))
    public static let avx512dq = CPUFeatures(rawValue: UInt32(IML_CPU_AVX512DQ))
    public static let avx512cd = CPUFeatures(rawValue: UInt32(IML_CPU_AVX512CD))
    public static let avx512bw = CPUFeatures(rawValue: UInt32(IML_CPU_AVX512BW))
    public static let avx512vl = CPUFeatures(rawValue: UInt32(IML_CPU_AVX512VL))
    public static let avx512bf16 = CPUFeatures(rawValue: UInt32(IML_CPU_AVX512BF16))

    /// What OpenBLAS's SkylakeX kernels use.
    public static let avx512: CPUFeatures = [.avx512f, .avx512dq, .avx512cd, .avx512bw, .avx512vl]

    /// This processor's, as far as the operating system supports them.
    public static let host = CPUFeatures(rawValue: UInt32(iml_cpu_features()))

    public var description: String {
        let names: [(CPUFeatures, String)] = [(.avx, "AVX"), (.avx2, "AVX2"), (.fma, "FMA"), (.avx512f, "AVX512F"),
                                              (.avx512dq, "AVX512DQ"), (.avx512cd, "AVX512CD"), (.avx512bw, "AVX512BW"),
                                              (.avx512vl, "AVX512VL"), (.avx512bf16, "AVX512-BF16")]
        let present = names.filter { contains($0.0) }.map(\.1)
        return present.isEmpty ? "none of AVX, AVX2, AVX-512" : present.joined(separator: " ")
    }
}

public enum BLASKernel {
    /// OpenBLAS's x86-64 kernels in tiers of the instructions they use: 0 SSE, 1 AVX (or AMD's
    /// pre-AVX2 vector units), 2 AVX2 + FMA, 3 AVX-512, 4 AVX-512 with BF16. Names OpenBLAS has
    /// that are missing here are left alone.
    static let tiers: [String: Int] = {
        var tiers: [String: Int] = [:]
        for name in ["Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn", "Dunnington",
                     "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Bobcat"] { tiers[name.lowercased()] = 0 }
        for name in ["Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator"] { tiers[name.lowercased()] = 1 }
        for name in ["Haswell", "Zen"] { tiers[name.lowercased()] = 2 }
        tiers["skylakex"] = 3
        for name in ["Cooperlake", "SapphireRapids"] { tiers[name.lowercased()] = 4 }
        return tiers
    }()

    /// The fastest kernel a processor with `features` runs, with the features that allow it (nil
    /// without AVX). Cooperlake adds BF16 products to SkylakeX; for our fp32 products the two ran
    /// at the same speed on a Zen 4 (docs/performance.md), and Cooperlake is what OpenBLAS itself
    /// picks there. With AVX2 alone, Haswell: on the Zen 4 it was 6% faster than OpenBLAS's Zen.
    public static func best(for features: CPUFeatures) -> (kernel: String, tier: Int, because: String)? {
        if features.isSuperset(of: CPUFeatures.avx512.union(.avx512bf16)) { return ("Cooperlake", 4, "AVX512-BF16") }
        if features.isSuperset(of: CPUFeatures.avx512) { return ("SkylakeX", 3, "AVX-512 F/CD/BW/DQ/VL") }
        if features.isSuperset(of: [.avx, .avx2, .fma]) { return ("Haswell", 2, "AVX2 with FMA") }
        if features.contains(.avx) { return ("Sandybridge", 1, "AVX") }
        return nil
    }

    /// What `auto` runs: nil to keep OpenBLAS's own pick, or the kernel the features allow when
    /// OpenBLAS's pick is a known kernel of a lower tier (its fallback for processors it does not
    /// know).
    public static func autoChoice(openBLASPick: String, features: CPUFeatures) -> (kernel: String, because: String)? {
        guard let pickTier = tiers[openBLASPick.lowercased()], let best = best(for: features), best.tier > pickTier else { return nil }
        return (best.kernel, best.because)
    }

    public static func same(_ a: String, _ b: String) -> Bool { a.caseInsensitiveCompare(b) == .orderedSame }
}

/// The kernel this process runs and why, as config.json and the tools' first line report it.
public struct BLASKernelChoice: Equatable, Sendable {
    public enum Reason: String, Sendable {
        /// OpenBLAS's own pick for this processor.
        case openBLAS = "openblas"
        /// Chosen from the processor's features: OpenBLAS's own pick was a fallback below them.
        case features
        /// OpenBLAS did not take the kernel the features allow, so its own pick runs.
        case featuresNotTaken = "features-not-taken"
        /// Named by `--blas-core`.
        case pinned
        /// OPENBLAS_CORETYPE was set in the environment the program started in.
        case environment
    }

    public var kernel: String
    /// The kernel OpenBLAS picks by itself here; nil when OPENBLAS_CORETYPE came from outside.
    public var openBLASPick: String?
    public var reason: Reason
    /// For .features and .featuresNotTaken: the kernel the features allow, and which features.
    public var chosen: String?
    public var because: String?

    public init(kernel: String, openBLASPick: String?, reason: Reason, chosen: String? = nil, because: String? = nil) {
        self.kernel = kernel
        self.openBLASPick = openBLASPick
        self.reason = reason
        self.chosen = chosen
        self.because = because
    }

    /// Why, in a few words, for config.json's blas_core_reason and the first line.
    public var why: String {
        let pick = openBLASPick ?? "unknown"
        switch reason {
        case .openBLAS: return "OpenBLAS's own pick for this processor"
        case .features: return "chosen from the processor's features (\(because ?? "")); OpenBLAS alone picks \(pick), a fallback"
        case .featuresNotTaken: return "OpenBLAS's own pick; it did not take \(chosen ?? ""), which the processor's features (\(because ?? "")) allow"
        case .pinned: return "pinned by --blas-core (OpenBLAS alone picks \(pick))"
        case .environment: return "OPENBLAS_CORETYPE in the environment"
        }
    }

    /// One line for the tools to print, so that a slow kernel is visible at a glance.
    public var line: String { "BLAS kernel: \(kernel), \(why)" }

    // The choice travels to the restarted process (and to the processes it starts) in this
    // variable: reason, OpenBLAS's own pick, the chosen kernel, the features, separated by '|'.
    public static let environmentKey = "IML_BLAS_CHOICE"

    public var environmentValue: String {
        [reason.rawValue, openBLASPick ?? "", chosen ?? "", because ?? ""].joined(separator: "|")
    }

    /// The choice recorded in `value` for a process running `kernel`; nil when it does not parse.
    public init?(environmentValue value: String, kernel: String) {
        let fields = value.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4, let reason = Reason(rawValue: fields[0]) else { return nil }
        self.init(kernel: kernel, openBLASPick: fields[1].isEmpty ? nil : fields[1], reason: reason,
                  chosen: fields[2].isEmpty ? nil : fields[2], because: fields[3].isEmpty ? nil : fields[3])
    }

    /// This process's: what the restart recorded, else OpenBLAS's own pick (or the environment's).
    public static var current: BLASKernelChoice {
        let environment = ProcessInfo.processInfo.environment
        let kernel = BLAS.coreName
        if let value = environment[environmentKey], let choice = BLASKernelChoice(environmentValue: value, kernel: kernel) {
            return choice
        }
        if environment["OPENBLAS_CORETYPE"] != nil {
            return BLASKernelChoice(kernel: kernel, openBLASPick: nil, reason: .environment)
        }
        return BLASKernelChoice(kernel: kernel, openBLASPick: kernel, reason: .openBLAS)
    }
}
