// Choosing the OpenBLAS kernel before any product is computed. Debian's OpenBLAS picks its kernel
// when it loads (or takes OPENBLAS_CORETYPE, read once, before main runs), and different kernels
// sum in different orders. `--blas-core auto` (the default) keeps OpenBLAS's pick unless it is a
// fallback below the processor's features (BLASKernel.autoChoice); `--blas-core NAME` pins NAME,
// so a run gives the same bytes on any machine that runs NAME. Either way, when the kernel in use
// is not the one wanted, the process restarts itself with OPENBLAS_CORETYPE set, carrying the
// choice in IML_BLAS_CHOICE so config.json can say why.

import Foundation
import IMLBase
import IMLCore

public enum BLASPin {
    /// Kernels worth naming: Haswell runs on every x86-64 processor with AVX2 (2013 on).
    public static let suggestion = "Haswell (any x86-64 processor with AVX2), SkylakeX, Cooperlake, Zen, Sandybridge"
    /// The option's value that asks for the choice above (also what leaving it out means).
    public static let auto = "auto"

    /// Returns the kernel choice once OpenBLAS runs the kernel `option` asks for (nil or "auto":
    /// the fastest this processor allows); otherwise restarts this process (and does not return),
    /// or throws when OpenBLAS ignored a pinned kernel (unknown, or unsupported here).
    @discardableResult
    public static func apply(option: String?) throws -> BLASKernelChoice {
        let environment = ProcessInfo.processInfo.environment
        let inUse = BLAS.coreName
        let coreType = environment["OPENBLAS_CORETYPE"]
        let recorded = environment[BLASKernelChoice.environmentKey].flatMap { BLASKernelChoice(environmentValue: $0, kernel: inUse) }
        // A restart of ours knows OpenBLAS's own pick; a process OpenBLAS chose for knows it too.
        let openBLASPick = recorded?.openBLASPick ?? (coreType == nil ? inUse : nil)

        // What to run: a kernel name (set OPENBLAS_CORETYPE) or nil (leave it unset).
        var want: BLASKernelChoice
        if let name = option, !BLASKernel.same(name, auto) {
            want = BLASKernelChoice(kernel: name, openBLASPick: openBLASPick, reason: .pinned)
        } else if coreType != nil, recorded == nil {
            return BLASKernelChoice(kernel: inUse, openBLASPick: nil, reason: .environment)   // the user's own setting
        } else if recorded?.reason == .featuresNotTaken {
            return recorded!
        } else if let pick = openBLASPick, let chosen = BLASKernel.autoChoice(openBLASPick: pick, features: .host) {
            want = BLASKernelChoice(kernel: chosen.kernel, openBLASPick: pick, reason: .features, chosen: chosen.kernel, because: chosen.because)
        } else {
            want = BLASKernelChoice(kernel: openBLASPick ?? inUse, openBLASPick: openBLASPick, reason: .openBLAS)
        }
        let setsCoreType = want.reason != .openBLAS

        // Satisfied; or OpenBLAS's own pick is wanted and already runs, whatever it reports.
        if BLASKernel.same(inUse, want.kernel) || (!setsCoreType && coreType == nil) {
            want.kernel = inUse
            setenv(BLASKernelChoice.environmentKey, want.environmentValue, 1)   // for the processes this one starts
            return want
        }
        if setsCoreType, let coreType, BLASKernel.same(coreType, want.kernel), recorded != nil {
            // This is the restart, and OpenBLAS runs another kernel than the one it was told.
            if want.reason == .pinned {
                throw IMLError("OpenBLAS did not take --blas-core \(want.kernel) (it runs its \(inUse) kernel): this build has no such kernel or this processor cannot run it; name another, e.g. \(suggestion), or leave the option out.")
            }
            // The features allowed a kernel OpenBLAS refused: go back to OpenBLAS's own pick.
            want.reason = .featuresNotTaken
            unsetenv("OPENBLAS_CORETYPE")
        } else if setsCoreType {
            setenv("OPENBLAS_CORETYPE", want.kernel, 1)
        } else {
            unsetenv("OPENBLAS_CORETYPE")
        }
        setenv(BLASKernelChoice.environmentKey, want.environmentValue, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        throw IMLError("Cannot restart the program to choose the OpenBLAS kernel (\(String(cString: strerror(errno)))); set OPENBLAS_CORETYPE=\(want.kernel) in the environment instead.")
    }
}
