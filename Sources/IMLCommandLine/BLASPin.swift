// Pinning the OpenBLAS kernel, for runs that must give the same bytes on any machine. Debian's
// OpenBLAS picks its kernel from the processor when it loads (or from OPENBLAS_CORETYPE, read
// once, before main runs), and different kernels sum in different orders. So `--blas-core NAME`
// restarts the process with OPENBLAS_CORETYPE=NAME when the kernel in use is another one.

import Foundation
import IMLBase
import IMLCore

public enum BLASPin {
    /// Kernels worth naming: Haswell runs on every x86-64 processor with AVX2 (2013 on).
    public static let suggestion = "Haswell (any x86-64 processor with AVX2), SkylakeX, Cooperlake, Zen, Sandybridge"

    /// Returns when OpenBLAS runs `core`; otherwise restarts this process with OPENBLAS_CORETYPE
    /// set (and does not return), or throws when OpenBLAS ignored it (unknown or unsupported here).
    public static func ensure(core: String) throws {
        if BLAS.coreName.caseInsensitiveCompare(core) == .orderedSame { return }
        if let set = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], set.caseInsensitiveCompare(core) == .orderedSame {
            throw IMLError("OpenBLAS did not take --blas-core \(core) (it runs its \(BLAS.coreName) kernel): this build has no such kernel or this processor cannot run it; name another, e.g. \(suggestion), or leave the option out.")
        }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        throw IMLError("Cannot restart the program to pin the OpenBLAS kernel (\(String(cString: strerror(errno)))); set OPENBLAS_CORETYPE=\(core) in the environment instead.")
    }
}
