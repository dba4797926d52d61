// A run's memory, estimated before anything is allocated: a setting that cannot fit (a hundred
// million entities, say) gets one sentence with the estimate and the limit instead of "Fatal
// error: failed to allocate" minutes in. Each modality estimates one seed from its settings
// (fitted to measured peaks, docs/reliability.md); seeds training at once each hold their own.

import Foundation
import IMLBase

public enum MemoryEstimate {
    /// This process's limit in bytes, with what sets it: the address-space limit (ulimit -v) when
    /// one is set and lower, else the machine's physical memory.
    public static func limit() -> (bytes: Double, what: String) {
        let physical = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
        var space = rlimit()
        if getrlimit(RLIMIT_AS_VALUE, &space) == 0, space.rlim_cur != rlim_t.max, Double(space.rlim_cur) < physical {
            return (Double(space.rlim_cur), "address-space limit (ulimit -v)")
        }
        return (physical, "physical memory")
    }

    /// Seeds training at once for `seeds` seeds on `threads` threads (Parallel.runWorkers).
    public static func seedsAtOnce(seeds: Int, threads: Int) -> Int {
        let cores = max(1, threads)
        return seeds <= cores ? max(1, seeds) : cores + seeds % cores
    }

    /// Refuses `perSeed` bytes a seed, `atOnce` seeds at a time, when that passes the limit.
    public static func check(perSeed: Double, atOnce: Int, settings: String) throws {
        let total = perSeed * Double(atOnce), (bytes, what) = limit()
        guard total > bytes else { return }
        let gb = { (x: Double) in String(format: "%.1f GB", x / 1e9) }
        let seeds = atOnce == 1 ? "" : " (\(gb(perSeed)) a seed, \(atOnce) seeds at once)"
        let fewer = atOnce > 1 ? ", or fewer seeds at once with --threads" : ""
        throw IMLError("\(settings) need about \(gb(total)) of memory\(seeds), more than this machine's \(gb(bytes)) of \(what); choose smaller settings\(fewer).")
    }
}

/// glibc declares RLIMIT_AS as an enum case; getrlimit takes its raw value.
private let RLIMIT_AS_VALUE = Int32(RLIMIT_AS.rawValue)
